"""Follow-up on the real service with a clock the test moves: the invoice email at once, each
reminder of the policy once at 09:00 UTC on its day, the overdue flag after the due date, all
on the order's timeline; nothing for a paid invoice; one reminder, not a burst, after a gap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.invoicing.paying import pay
from tests.invoicing.service import InvoicingService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, tzinfo=UTC))


async def quiet(invoicing: InvoicingService) -> None:
    """Waits until follow-up and the mail sender have each looked twice since now: whatever was
    due at the clock's time has been done (and mailed)."""
    loops = invoicing.app.state.loops
    marks = [loop.rounds for loop in loops]
    await eventually(lambda: all(loop.rounds >= mark + 2 for loop, mark in zip(loops, marks)),
                     message="follow-up and mail rounds")


async def subjects(invoicing: InvoicingService, invoice_id: str, expected: list[str]) -> list[str]:
    """The subjects of the invoice's emails, once the ``expected`` number of them went out (a
    send the SMTP server refused on a busy machine is tried again in a later round) and both
    loops have looked twice more (so one sent too many would be there too)."""
    await invoicing.sink.wait_for(invoice_id, len(expected))
    await quiet(invoicing)
    return ["Invoice" if message["Subject"].startswith("Invoice ") else message["Subject"].split(":")[0]
            for message in invoicing.sink.messages(invoice_id)]


async def test_reminders_go_out_once_each_at_their_simulated_times(fresh_invoicing):
    async with fresh_invoicing() as invoicing:
        # given an invoice due in ten days, reminding 3 days before, on the day and 3 days after
        merchant = await invoicing.merchant()
        order = await invoicing.order(merchant)
        due = invoicing.clock.today() + timedelta(days=10)
        invoice = await invoicing.create_invoice(merchant, order["id"], due_date=due.isoformat(),
                                                 reminder_policy=[-3, 0, 3])
        # then the invoice email goes out at once, and nothing else
        assert await subjects(invoicing, invoice["id"], ["Invoice"]) == ["Invoice"]
        # and each reminder goes out at 09:00 UTC on its day, not a minute before, and once
        timeline = [
            (at(due - timedelta(days=3), 8, 59), ["Invoice"]),
            (at(due - timedelta(days=3), 9, 1), ["Invoice", "Reminder"]),
            (at(due - timedelta(days=1), 12), ["Invoice", "Reminder"]),
            (at(due, 8, 59), ["Invoice", "Reminder"]),
            (at(due, 9, 1), ["Invoice", "Reminder", "Due today"]),
            (at(due + timedelta(days=1), 0, 1), ["Invoice", "Reminder", "Due today"]),
            (at(due + timedelta(days=3), 9, 1), ["Invoice", "Reminder", "Due today", "Overdue"]),
            (at(due + timedelta(days=30), 9, 1), ["Invoice", "Reminder", "Due today", "Overdue"]),
        ]
        for moment, expected in timeline:
            invoicing.clock.move_to(moment)
            assert await subjects(invoicing, invoice["id"], expected) == expected, moment
        # and the invoice says it is overdue, with three reminders sent and nothing more planned
        current = await invoicing.get_invoice(merchant, invoice["id"])
        assert current["overdue"] and current["reminders_sent"] == 3 and current["next_follow_up_at"] is None
        assert current["overdue_at"].startswith((due + timedelta(days=1)).isoformat())
        # and the order's timeline holds each step, in order
        types = await eventually(lambda: _timeline(invoicing, merchant, order["id"], 6), message="the timeline")
        assert types == ["order.created", "invoice.created", "invoice.sent", "invoice.reminder_sent",
                         "invoice.reminder_sent", "invoice.overdue", "invoice.reminder_sent"]


async def test_after_a_gap_only_the_latest_reminder_goes_out(fresh_invoicing):
    async with fresh_invoicing() as invoicing:
        merchant = await invoicing.merchant()
        order = await invoicing.order(merchant)
        due = invoicing.clock.today() + timedelta(days=10)
        invoice = await invoicing.create_invoice(merchant, order["id"], due_date=due.isoformat(),
                                                 reminder_policy=[-3, 0, 3, 7])
        assert await subjects(invoicing, invoice["id"], ["Invoice"]) == ["Invoice"]
        # when follow-up next looks four days after the due date (the worker was down)
        invoicing.clock.move_to(at(due + timedelta(days=4), 10))
        # then one reminder (the +3 one) goes out, not three, and the +7 one still comes later
        assert await subjects(invoicing, invoice["id"], ["Invoice", "Overdue"]) == ["Invoice", "Overdue"]
        current = await invoicing.get_invoice(merchant, invoice["id"])
        assert current["reminders_sent"] == 1 and current["overdue"]
        assert current["next_follow_up_at"].startswith((due + timedelta(days=7)).isoformat() + "T09:00")


async def test_a_paid_invoice_gets_no_reminders(fresh_invoicing):
    async with fresh_invoicing() as invoicing:
        merchant = await invoicing.merchant()
        order = await invoicing.order(merchant)
        due = invoicing.clock.today() + timedelta(days=5)
        invoice = await invoicing.create_invoice(merchant, order["id"], due_date=due.isoformat())
        assert await subjects(invoicing, invoice["id"], ["Invoice"]) == ["Invoice"]
        assert "Payment received" in (await pay(invoicing, invoice["hosted_url"])).text
        invoicing.clock.move_to(at(due + timedelta(days=10), 10))
        assert await subjects(invoicing, invoice["id"], ["Invoice"]) == ["Invoice"]
        assert not (await invoicing.get_invoice(merchant, invoice["id"]))["overdue"]


async def test_mail_waits_for_a_server_that_is_down_and_goes_out_once_it_is_back(fresh_invoicing, tmp_path):
    from flint_invoicing import mailsink
    from tests.invoicing.service import SMTP_PORTS
    from tests.support.http_server import free_port

    port = free_port(SMTP_PORTS)
    async with fresh_invoicing(smtp_port=port, mail_retry_delays=[0.2] * 50) as invoicing:
        merchant = await invoicing.merchant()
        order = await invoicing.order(merchant)
        invoice = await invoicing.create_invoice(merchant, order["id"])
        # the server is down: the message waits, tried again and again
        await eventually(lambda: invoicing.pool.fetchval(
            "SELECT attempts >= 2 FROM mail_outbox WHERE invoice_id = $1", invoice["id"]), message="retries")
        # when it comes back on that port, the message is delivered once
        server = await mailsink.serve(tmp_path, "127.0.0.1", port)
        try:
            await eventually(lambda: list(tmp_path.glob("*.eml")), message="the delivered message")
            await quiet(invoicing)
            assert len(list(tmp_path.glob("*.eml"))) == 1
            assert await invoicing.pool.fetchval(
                "SELECT sent_at IS NOT NULL FROM mail_outbox WHERE invoice_id = $1", invoice["id"])
        finally:
            server.close()
            await server.wait_closed()


async def _timeline(invoicing: InvoicingService, merchant: str, order_id: str, invoice_entries: int) -> list[str] | None:
    response = await invoicing.orders.call("GET", f"/v1/orders/{order_id}/timeline",
                                           invoicing.orders.merchant_token(merchant))
    types = [entry["type"] for entry in response.json()["data"]]
    return types if len([t for t in types if t.startswith("invoice.")]) >= invoice_entries else None
