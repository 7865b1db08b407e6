"""A refunds worker killed (SIGKILL) after the processor moved the money and before it recorded
the outcome: the next worker resumes the refund with the same idempotency key, gets the first
refund back, and the order's money ends exactly as the processor moved it, once.

The worker runs as a real process (``python -m flint_refunds --role worker``). The test holds
the lock on the order's projection row, which settling a refund takes first, so the worker is
stopped exactly between the processor's answer and its own commit when it is killed."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from flint_chassis.config import with_database
from flint_contracts.ids import new_id
from flint_contracts.order import OrderRecord
from flint_payments import SandboxProcessor
from flint_refunds import handlers
from flint_refunds.app import create_app, create_runtime
from flint_refunds.domain import KnownCapture
from tests.orders.service import eur, start_groups_at_end
from tests.refunds.service import (
    PORTS,
    RefundsService,
    drop_database,
    refunds_settings,
    sandbox_factory,
    sandbox_settings,
)
from tests.support.http_server import free_port
from tests.support.polling import eventually
from tests.support.tokens import ISSUER

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ROOT = Path(__file__).resolve().parents[2]
LEASE = 2.0


class WorkerProcess:
    """``python -m flint_refunds --role worker`` on the test's databases."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = int(env["FLINT_REFUNDS_PORT"])
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flint_refunds", "--role", "worker", env=self.env, cwd=ROOT,
                stdout=out, stderr=out, start_new_session=True)
        await eventually(self._ready, timeout=60, interval=0.2, message=f"the worker (log: {self.log})")

    async def _ready(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}: {self.log.read_text()[-3000:]}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    async def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)


async def test_a_worker_killed_between_the_processors_answer_and_its_commit_never_refunds_twice(
    refunds: RefundsService, server_url: str, kafka_bootstrap: str, tmp_path: Path
):
    run = secrets.token_hex(5)
    database, ledger = f"test_refunds_crash_{run}", f"test_refunds_crash_sbx_{run}"
    ledger_settings = sandbox_settings(server_url, ledger)
    # an API that stores refunds and leaves every run to the workers
    settings = refunds_settings(server_url, kafka_bootstrap, database, role="api", refund_answer_wait=0,
                                refund_lease_seconds=LEASE)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": server_url,
           "DATABASE_NAME": database, "FLINT_SANDBOX_DATABASE": ledger, "FLINT_INSTALLS_URL": ISSUER,
           "FLINT_REFUNDS_GROUP_PREFIX": f"{database}.", "FLINT_REFUNDS_SECRET": secrets.token_urlsafe(40),
           "FLINT_REFUNDS_PORT": str(free_port(PORTS)), "FLINT_REFUNDS_LEASE_SECONDS": str(LEASE),
           "FLINT_REFUNDS_POLL_INTERVAL": "0.1", "OUTBOX_POLL_INTERVAL": "0.2", "FLINT_LOG_LEVEL": "INFO"}
    await start_groups_at_end(kafka_bootstrap, create_runtime(settings).consumer_groups())
    app = create_app(settings, processor=sandbox_factory(ledger_settings), jwks_transport=refunds.orders.issuer.transport)
    workers: list[WorkerProcess] = []
    try:
        async with await SandboxProcessor.open(ledger_settings) as sandbox, app.router.lifespan_context(app):
            pool = app.state.runtime.pool
            # given a paid order, known to this refunds service
            merchant = new_id("mer")
            order, payment = await _paid_order(refunds, sandbox, pool, merchant)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://refunds.test") as api:
                answer = await api.post("/v1/refunds", json={
                    "order_id": order["id"], "reason": "returned_items",
                    "lines": [{"line_item_id": order["line_items"][0]["id"], "quantity": 2}]},
                    headers={"Authorization": f"Bearer {refunds.app_token(merchant)}"})
            assert (answer.status_code, answer.json()["status"]) == (201, "pending"), answer.text
            refund_id = answer.json()["id"]

            # when a worker runs it, the processor refunds, and the worker is killed before its commit
            blocker = await asyncpg.connect(with_database(server_url, database))
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("SELECT 1 FROM order_money WHERE order_id = $1 FOR UPDATE", order["id"])
            workers.append(WorkerProcess(env, tmp_path / "worker-1.log"))
            await workers[0].start()
            await eventually(lambda: _moved(sandbox, payment), timeout=30, message="the processor's refund")
            await workers[0].kill()
            await transaction.rollback()
            await blocker.close()
            assert await _status(pool, refund_id) == "pending"

            # then the next worker resumes it with the same key and gets the first refund back
            workers.append(WorkerProcess(env, tmp_path / "worker-2.log"))
            await workers[1].start()
            await eventually(lambda: _settled(pool, refund_id), timeout=30, message="the resumed refund")
            [moved] = (await sandbox.get_charge(payment.processor_reference)).refunds
            stored = await pool.fetchval("SELECT doc->>'processor_reference' FROM refunds WHERE id = $1", refund_id)
            assert (moved.amount.amount, moved.reference) == (2380, stored)
            # and the order, at the orders service, shows it refunded once
            shown = await refunds.order_shows(merchant, order["id"], lambda o: o["amounts"]["refunded"] == eur(2380))
            assert [(r["id"], r["status"]) for r in shown["refunds"]] == [(refund_id, "succeeded")]
    finally:
        for worker in workers:
            await worker.stop()
        await drop_database(server_url, database)
        await drop_database(server_url, ledger)


async def _paid_order(refunds: RefundsService, sandbox: SandboxProcessor, pool: asyncpg.Pool, merchant: str):
    """An order at the orders service, paid through this test's sandbox, in this refunds
    service's projection (seeded as its consumers would, since the API role consumes nothing)."""
    from flint_contracts.events import build_envelope
    from flint_contracts.money import Money
    from flint_contracts.topics import PAYMENTS_EVENTS
    from flint_payments import capture_payment, event_type_of

    order = await refunds.orders.create_order(merchant)
    payment = await capture_payment(sandbox, order_id=order["id"], amount=Money(amount=2880, currency="EUR"))
    await refunds.orders.publish(PAYMENTS_EVENTS, build_envelope(event_type_of(payment), payment,
                                                                 source="flint.checkout", merchant_id=merchant))
    paid = await refunds.order_shows(merchant, order["id"], lambda o: o["payment_status"] == "paid")
    async with pool.acquire() as conn, conn.transaction():
        await handlers.record_order(conn, OrderRecord.model_validate(paid))
        await handlers.record_capture(conn, KnownCapture(
            payment_id=payment.payment_id, order_id=order["id"], merchant_id=merchant, amount=2880, currency="EUR",
            captured_at=payment.captured_at, processor=payment.processor,
            processor_reference=payment.processor_reference))
    return paid, payment


async def _moved(sandbox: SandboxProcessor, payment) -> bool:
    return len((await sandbox.get_charge(payment.processor_reference)).refunds) == 1


async def _status(pool: asyncpg.Pool, refund_id: str) -> str:
    return await pool.fetchval("SELECT status FROM refunds WHERE id = $1", refund_id)


async def _settled(pool: asyncpg.Pool, refund_id: str) -> bool:
    return await _status(pool, refund_id) == "succeeded"
