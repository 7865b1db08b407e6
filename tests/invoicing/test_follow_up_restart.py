"""Follow-up survives its worker: ``python -m flint_invoicing --role worker`` processes, killed
and started again at later simulated times (``FLINT_INVOICING_CLOCK_OFFSET``), two of them at
once, never send a reminder twice and never skip one. The API runs in the test; the workers
are real processes on the same database, Kafka and SMTP sink."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest

from tests.invoicing.service import HTTP_PORTS, InvoicingService
from tests.support.http_server import free_port
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, tzinfo=UTC))


def worker_environment(invoicing: InvoicingService) -> dict[str, str]:
    s = invoicing.settings
    return {
        **os.environ, "DATABASE_URL": s.database_url, "DATABASE_NAME": s.database,
        "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers, "FLINT_INVOICING_GROUP_PREFIX": s.consumer_group_prefix,
        "FLINT_INVOICING_SECRET": s.secret.get_secret_value(), "FLINT_INVOICING_ROLE": "worker",
        "FLINT_INVOICING_PUBLIC_URL": s.public_url, "FLINT_INSTALLS_URL": s.installs_url,
        "FLINT_SMTP_HOST": "127.0.0.1", "FLINT_SMTP_PORT": str(s.smtp_port), "FLINT_SMTP_TIMEOUT": "5",
        "FLINT_INVOICING_FOLLOWUP_INTERVAL": "0.1", "FLINT_INVOICING_MAIL_INTERVAL": "0.1",
        "OUTBOX_POLL_INTERVAL": "0.2", "FLINT_LOG_LEVEL": "WARNING",
    }


@contextlib.asynccontextmanager
async def workers(invoicing: InvoicingService, logs: Path, *, count: int = 1, now: datetime | None = None,
                  stop: signal.Signals = signal.SIGKILL) -> AsyncIterator[list[subprocess.Popen]]:
    """``count`` worker processes started together, whose clocks read ``now`` (the real time when
    None), stopped with ``stop``."""
    offset = 0.0 if now is None else (now - datetime.now(UTC)).total_seconds()
    started: list[tuple[subprocess.Popen, int]] = []
    try:
        for _ in range(count):
            taken = [port for _, port in started]
            port = free_port(range(max(taken, default=HTTP_PORTS.start - 1) + 1, HTTP_PORTS.stop))
            env = {**worker_environment(invoicing), "FLINT_INVOICING_PORT": str(port),
                   "FLINT_INVOICING_CLOCK_OFFSET": str(offset)}
            with open(logs / f"worker-{port}-{datetime.now(UTC):%H%M%S%f}.log", "wb") as log:
                started.append((subprocess.Popen([sys.executable, "-m", "flint_invoicing"], env=env, stdout=log,
                                                 stderr=log), port))
        async with httpx.AsyncClient() as client:
            for process, port in started:
                await eventually(lambda: _ready(client, port, process), timeout=60, interval=0.2,
                                 message=f"the worker on {port} to be ready")
        yield [process for process, _ in started]
    finally:
        for process, _ in started:
            process.send_signal(stop)
        for process, _ in started:
            await asyncio.to_thread(process.wait, 30)


async def _ready(client: httpx.AsyncClient, port: int, process: subprocess.Popen) -> bool:
    assert process.poll() is None, f"the worker exited with {process.returncode}"
    try:
        return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def settled(invoicing: InvoicingService, invoice_id: str, moment: datetime) -> None:
    """Waits until the invoice has nothing due at ``moment`` and no mail waiting: what was due
    then has been done and delivered."""
    async def done() -> bool:
        row = await invoicing.pool.fetchrow(
            "SELECT next_follow_up_at, (SELECT count(*) FROM mail_outbox WHERE invoice_id = $1 AND sent_at IS NULL) "
            "AS waiting FROM invoices WHERE id = $1", invoice_id)
        return row["waiting"] == 0 and (row["next_follow_up_at"] is None or row["next_follow_up_at"] > moment)

    await eventually(done, timeout=60, message=f"follow-up of {invoice_id} at {moment}")


def kinds(invoicing: InvoicingService, invoice_id: str) -> list[str]:
    return ["Invoice" if m["Subject"].startswith("Invoice ") else m["Subject"].split(":")[0]
            for m in invoicing.sink.messages(invoice_id)]


async def test_reminders_survive_worker_restarts_and_a_second_worker(fresh_invoicing, tmp_path: Path):
    async with fresh_invoicing(role="api") as invoicing:
        # given a worker process, and invoices due in ten days reminding at -3, 0 and +3 days
        async with workers(invoicing, tmp_path):
            merchant = await invoicing.merchant()
            orders = [await invoicing.order(merchant) for _ in range(8)]
            order = orders[0]
            due = invoicing.clock.today() + timedelta(days=10)
            invoices = [await invoicing.create_invoice(merchant, o["id"], due_date=due.isoformat(),
                                                       reminder_policy=[-3, 0, 3]) for o in orders]
            invoice = invoices[0]
            for each in invoices:
                await settled(invoicing, each["id"], datetime.now(UTC))
        # (killed: SIGKILL) then each invoice email went out once
        assert all(kinds(invoicing, each["id"]) == ["Invoice"] for each in invoices)

        # when two workers start together, their clocks a few seconds before 09:00 three days before the
        # due date, so that the reminders fall due while both run and they take the invoices side by side
        moment = at(due - timedelta(days=3), 9, 0)
        async with workers(invoicing, tmp_path, count=2, now=moment - timedelta(seconds=8)):
            for each in invoices:
                await settled(invoicing, each["id"], moment + timedelta(minutes=1))
        # then each reminder went out once
        assert [kinds(invoicing, each["id"]) for each in invoices] == [["Invoice", "Reminder"]] * len(invoices)

        # when workers come back on the due date (stopped with SIGTERM this time) and three days after it
        moment = at(due, 9, 5)
        async with workers(invoicing, tmp_path, now=moment, stop=signal.SIGTERM) as [process]:
            await settled(invoicing, invoice["id"], moment)
        # then the day's reminder went out, none of the earlier ones again, and the worker stopped cleanly
        assert process.returncode == 0 and kinds(invoicing, invoice["id"]) == ["Invoice", "Reminder", "Due today"]
        moment = at(due + timedelta(days=3), 9, 5)
        async with workers(invoicing, tmp_path, now=moment):
            await settled(invoicing, invoice["id"], moment)
            # (this service's API has no relay: the worker publishes the steps before it is killed)
            await eventually(lambda: _outbox_drained(invoicing), message="the worker's relay publishing the steps")
        assert kinds(invoicing, invoice["id"]) == ["Invoice", "Reminder", "Due today", "Overdue"]
        # then each step is once on the order's timeline, and nothing more is planned
        current = await invoicing.get_invoice(merchant, invoice["id"])
        assert current["overdue"] and current["reminders_sent"] == 3 and current["next_follow_up_at"] is None
        types = await eventually(lambda: _invoice_steps(invoicing, merchant, order["id"]), message="the timeline")
        assert types == ["invoice.created", "invoice.sent", "invoice.reminder_sent", "invoice.reminder_sent",
                         "invoice.overdue", "invoice.reminder_sent"]


async def _outbox_drained(invoicing: InvoicingService) -> bool:
    return await invoicing.pool.fetchval("SELECT count(*) FROM flint_outbox WHERE published_at IS NULL") == 0


async def _invoice_steps(invoicing: InvoicingService, merchant: str, order_id: str) -> list[str] | None:
    response = await invoicing.orders.call("GET", f"/v1/orders/{order_id}/timeline",
                                           invoicing.orders.merchant_token(merchant))
    steps = [e["type"] for e in response.json()["data"] if e["type"].startswith("invoice.")]
    return steps if len(steps) >= 6 else None
