"""Issue 13's demo across real processes: every service and both example plugins run as the
stack's own processes on a Kafka and PostgreSQL of their own; the narrated demo (`make up`
without --no-demo runs the same `python -m deploy.demo run`) drives a merchant, a buyer and a
support agent, and the plugins act on the events. The test checks what a merchant would see
afterwards: each order's record, its refunds and invoices, and its timeline."""

from __future__ import annotations

import re

import pytest

from flint_sdk import Money
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


def eur(cents: int) -> Money:
    return Money(amount=cents, currency="EUR")


@pytest.fixture(scope="module")
def demo(live_stack):
    """The demo, run once; the ids of its two orders, as it printed them."""
    done = live_stack.run("-m", "deploy.demo", "run", timeout=180)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    refunded_id, invoiced_id = re.findall(r"Timeline of order #\d+ \((ord_\w+)\)", done.stdout)
    return done.stdout, refunded_id, invoiced_id


def test_the_stack_runs_every_service_and_both_plugins(live_stack):
    status = live_stack.run("deploy/stack.py", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines() if line.strip()}
    for name in ("kafka", "kafka-plugins", "postgres", "installs", "orders", "refunds", "invoicing"):
        assert rows.get(name) == "healthy", status.stdout  # checked, not only answering
    for name in ("mail", "balance-chaser", "refund-desk"):
        assert rows.get(name) == "running", status.stdout  # answers / lives; nothing deeper to check


def test_the_refund_desk_refunds_part_of_a_paid_order_on_a_support_note(live_stack, demo):
    _, order_id, _ = demo
    desk = _app_id(live_stack, "refund-desk")
    with live_stack.merchant_client() as shop:
        order = shop.orders.get(order_id)
        assert (order.status, order.payment_status) == ("open", "partially_refunded")
        assert order.amounts.captured == eur(18340) and order.amounts.refunded == eur(1250)
        assert order.amounts.net_paid == eur(17090) and order.amounts.refund_pending == eur(0)
        [decision] = order.metadata[desk]["decisions"]
        refund = shop.refunds.get(decision["refund_id"])
        assert (refund.status, refund.reason, refund.amount) == ("succeeded", "defective", eur(1250))
        assert refund.note == "one enamel mug arrived chipped"
        notes = [note["body"] for note in order.notes]
        assert notes[0].startswith("refund 12.50 defective")
        assert notes[1] == f"Refund desk: refunded 12.50 EUR (defective) as {refund.id}: one enamel mug arrived chipped"
        timeline = [(entry.type, entry.actor.get("id")) for entry in shop.orders.iterate_timeline(order_id)]
    merchant_id = live_stack.merchant()["id"]
    # the merchant's note, then the desk's refund and its records. The refund reaches the order's
    # timeline through the refunds service's events while the desk writes its metadata and note
    # straight to the orders API, so those interleave; the refund is recorded before it settles.
    assert timeline[:3] == [("order.created", merchant_id), ("order.paid", None),
                            ("order.note_added", merchant_id)]
    assert sorted(timeline[3:]) == [("order.metadata_updated", desk), ("order.note_added", desk),
                                    ("order.partially_refunded", desk), ("refund.created", desk)]
    assert timeline.index(("refund.created", desk)) < timeline.index(("order.partially_refunded", desk))


def test_the_balance_chaser_invoices_a_deposit_order_and_the_buyer_pays_on_the_hosted_page(live_stack, demo):
    _, _, order_id = demo
    chaser = _app_id(live_stack, "balance-chaser")
    with live_stack.merchant_client() as shop:
        order = shop.orders.get(order_id)
        assert (order.status, order.payment_status) == ("open", "paid")
        assert order.amounts.captured == eur(18340) and order.amounts.balance_due == eur(0)
        chased = order.metadata[chaser]
        invoice = shop.invoices.get(chased["invoice_id"])
        assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", eur(13340), eur(13340))
        assert invoice.reminder_policy == [-3, 0, 3, 7] and chased["invoice_number"] == invoice.display_number
        assert [p["amount"]["amount"] for p in order.payments] == [5000, 13340]
        assert any(note["body"].startswith(f"Balance chaser sent invoice {invoice.display_number} for 133.40 EUR")
                   for note in order.notes)
        types = [entry.type for entry in shop.orders.iterate_timeline(order_id)]
    assert types[:2] == ["order.created", "order.partially_paid"]
    for kind in ("order.metadata_updated", "invoice.created", "order.note_added", "invoice.paid", "order.paid"):
        assert kind in types, types
    assert types.index("invoice.created") < types.index("invoice.paid") and types.count("order.paid") == 1


def test_the_demo_narrates_and_prints_both_timelines(demo):
    printed, refunded_id, invoiced_id = demo
    assert "refund desk" in printed and "balance chaser" in printed
    assert "/pay/" in printed and "order.partially_refunded" in printed and "invoice.paid" in printed


async def test_the_refund_desk_declines_more_than_is_refundable_and_says_why(live_stack, demo):
    _, order_id, _ = demo
    desk = _app_id(live_stack, "refund-desk")
    with live_stack.merchant_client() as shop:
        shop.orders.add_note(order_id, "refund 500.00 goodwill: sorry for the wait")
        order = await eventually(lambda: _decided(shop, order_id, desk, 2), timeout=45, interval=0.3,
                                 message="the desk's decision")
        decision = order.metadata[desk]["decisions"][-1]
        assert decision["decision"] == "declined" and "at most 170.90 EUR can be refunded" in decision["summary"]
        assert order.amounts.refunded == eur(1250)
        assert len(shop.refunds.list(order_id=order_id).data) == 1


def _decided(shop, order_id, desk, count):
    order = shop.orders.get(order_id)
    return order if len(order.metadata.get(desk, {}).get("decisions", [])) >= count else None


def _app_id(live_stack, plugin: str) -> str:
    settings = (live_stack.state / "plugins" / f"{plugin}.env").read_text()
    return re.search(r"^FLINT_APP_ID=(\S+)$", settings, re.MULTILINE).group(1)
