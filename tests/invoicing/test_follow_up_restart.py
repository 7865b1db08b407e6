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
async def worker(invoicing: InvoicingService, logs: Path, *, now: datetime | None = None,
                 stop: signal.Signals = signal.SIGKILL) -> AsyncIterator[subprocess.Popen]:
    """A worker process whose clock reads ``now`` (the real time when None), stopped with ``stop``."""
    port = free_port(HTTP_PORTS)
    offset = 0.0 if now is None else (now - datetime.now(UTC)).total_seconds()
    env = {**worker_environment(invoicing), "FLINT_INVOICING_PORT": str(port),
           "FLINT_INVOICING_CLOCK_OFFSET": str(offset)}
    log = open(logs / f"worker-{port}-{datetime.now(UTC):%H%M%S%f}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "flint_invoicing"], env=env, stdout=log, stderr=log)
    try:
        async with httpx.AsyncClient() as client:
            await eventually(lambda: _ready(client, port, process), timeout=60, interval=0.2,
                             message=f"the worker on {port} to be ready")
        yield process
    finally:
        process.send_signal(stop)
        await asyncio.to_thread(process.wait, 30)
        log.close()


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
        # given a worker process, an order and an invoice due in ten days reminding at -3, 0 and +3 days
        async with worker(invoicing, tmp_path):
            merchant = await invoicing.merchant()
            order = await invoicing.order(merchant)
            due = invoicing.clock.today() + timedelta(days=10)
            invoice = await invoicing.create_invoice(merchant, order["id"], due_date=due.isoformat(),
                                                     reminder_policy=[-3, 0, 3])
            await settled(invoicing, invoice["id"], datetime.now(UTC))
        # (killed: SIGKILL) then the invoice email went out once
        assert kinds(invoicing, invoice["id"]) == ["Invoice"]

        # when two workers start at once three days before the due date, after 09:00
        moment = at(due - timedelta(days=3), 9, 5)
        async with worker(invoicing, tmp_path, now=moment), worker(invoicing, tmp_path, now=moment):
            await settled(invoicing, invoice["id"], moment)
        # then the reminder went out once
        assert kinds(invoicing, invoice["id"]) == ["Invoice", "Reminder"]

        # when a worker restarts at the same moment, nothing is sent again
        async with worker(invoicing, tmp_path, now=moment, stop=signal.SIGTERM) as process:
            await settled(invoicing, invoice["id"], moment)
        assert process.returncode == 0 and kinds(invoicing, invoice["id"]) == ["Invoice", "Reminder"]

        # when workers come back on the due date and three days after it
        for moment, expected in ((at(due, 9, 5), ["Invoice", "Reminder", "Due today"]),
                                 (at(due + timedelta(days=3), 9, 5), ["Invoice", "Reminder", "Due today", "Overdue"])):
            async with worker(invoicing, tmp_path, now=moment):
                await settled(invoicing, invoice["id"], moment)
            assert kinds(invoicing, invoice["id"]) == expected, moment
        # then each step is once on the order's timeline, and nothing more is planned
        current = await invoicing.get_invoice(merchant, invoice["id"])
        assert current["overdue"] and current["reminders_sent"] == 3 and current["next_follow_up_at"] is None
        types = await eventually(lambda: _invoice_steps(invoicing, merchant, order["id"]), message="the timeline")
        assert types == ["invoice.created", "invoice.sent", "invoice.reminder_sent", "invoice.reminder_sent",
                         "invoice.overdue", "invoice.reminder_sent"]


async def _invoice_steps(invoicing: InvoicingService, merchant: str, order_id: str) -> list[str] | None:
    response = await invoicing.orders.call("GET", f"/v1/orders/{order_id}/timeline",
                                           invoicing.orders.merchant_token(merchant))
    steps = [e["type"] for e in response.json()["data"] if e["type"].startswith("invoice.")]
    return steps if len(steps) >= 6 else None
