"""The refunds service running in-process against the real Kafka broker and PostgreSQL, beside
a real orders service, for integration tests: its API through httpx.ASGITransport, its
consumers, outbox relay and refund runners on the real topics, a sandbox ledger database of
its own, tokens from the orders service's TestIssuer (so one token works with both).

A run is isolated like the orders service's (tests/orders/service.py): fresh databases,
consumer groups named after them and started at the current end of each topic, fresh ids.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from flint_chassis.topics import ensure_topics
from flint_contracts.events import build_envelope
from flint_contracts.money import Money
from flint_contracts.topics import PAYMENTS_EVENTS, REFUNDS_EVENTS, dead_letter_topic
from flint_payments import SandboxProcessor, SandboxSettings, capture_payment, event_type_of
from flint_refunds.app import create_app, create_runtime
from flint_refunds.config import RefundsSettings
from tests.orders.service import OrdersService, Tap, order_body, start_groups_at_end
from tests.support.polling import eventually

# The refunds workstream's ports for servers its tests start (HTTP 18900-18999).
PORTS = range(18900, 19000)


def sandbox_settings(server_url: str, database: str) -> SandboxSettings:
    return SandboxSettings(DATABASE_URL=server_url, FLINT_SANDBOX_DATABASE=database)


def sandbox_factory(settings: SandboxSettings):
    """Opens a sandbox on ``settings``' ledger, for ``create_app(processor=...)``."""

    @contextlib.asynccontextmanager
    async def open_sandbox() -> AsyncIterator[SandboxProcessor]:
        async with await SandboxProcessor.open(settings) as sandbox:
            yield sandbox

    return open_sandbox


def refunds_settings(server_url: str, kafka_bootstrap: str, database: str, **overrides: Any) -> RefundsSettings:
    """Settings for a test run: short delays, so pending refunds are resumed within a second."""
    from tests.support.tokens import ISSUER

    values: dict[str, Any] = dict(
        database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
        installs_url=ISSUER, consumer_group_prefix=f"{database}.", outbox_poll_interval=0.2,
        consumer_retry_backoff=0.05, consumer_park_delays=[0.2, 0.4, 0.8], consumer_redrive_interval=0.05,
        secret=secrets.token_urlsafe(40), refund_poll_interval=0.1, refund_retry_backoff=0.1,
        refund_retry_backoff_max=0.5, refund_lease_seconds=3.0,
    )
    return RefundsSettings(**(values | overrides))


@dataclass
class RefundsService:
    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    settings: RefundsSettings
    orders: OrdersService
    sandbox: SandboxProcessor
    sandbox_settings: SandboxSettings
    tap: Tap

    # --- tokens: the orders service's issuer, so one token works with both ---------------------

    def merchant_token(self, merchant_id: str, scopes: str = "refunds:read refunds:write orders:read") -> str:
        """The merchant's own backend token (reading refunds needs no app)."""
        return self.orders.issuer.token(merchant_id, scopes, install_id=None)

    def app_token(self, merchant_id: str, scopes: str = "refunds:read refunds:write orders:read", **kw: Any) -> str:
        return self.orders.issuer.token(merchant_id, scopes, **kw)

    # --- HTTP ---------------------------------------------------------------------------------

    async def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return await self.client.request(method, path, headers=headers, **kw)

    async def refund(self, token: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.call("POST", "/v1/refunds", token, json=body, **kw)

    async def get_refund(self, merchant_id: str, refund_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/v1/refunds/{refund_id}", self.merchant_token(merchant_id))
        assert response.status_code == 200, response.text
        return response.json()

    # --- an order as a plugin finds it: created, paid, known to refunds ------------------------------

    async def paid_order(self, merchant_id: str, body: dict[str, Any] | None = None,
                         payments: list[int] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """An order created through the orders API and paid by sandbox captures published on
        ``flint.payments.events.v1`` (in full unless ``payments`` says how much each), once both
        services know it and every capture."""
        order = await self.orders.create_order(merchant_id, body or order_body())
        amounts = payments or [order["totals"]["total"]["amount"]]
        captured = [await self.capture(order, amount) for amount in amounts]
        await self.known(order["id"], len(captured))
        await self.order_shows(merchant_id, order["id"], lambda o: o["amounts"]["captured"]["amount"] == sum(amounts))
        return order, captured

    async def capture(self, order: dict[str, Any], amount: int) -> dict[str, Any]:
        """A sandbox capture for the order, published as ``payment.captured``; returns its data."""
        data = await capture_payment(self.sandbox, order_id=order["id"],
                                     amount=Money(amount=amount, currency=order["currency"]))
        envelope = build_envelope(event_type_of(data), data, source="flint.checkout", merchant_id=order["merchant_id"])
        await self.orders.publish(PAYMENTS_EVENTS, envelope)
        return data.model_dump(mode="json")

    async def known(self, order_id: str, captures: int) -> None:
        """Waits until the refunds service has the order and ``captures`` captures with their
        processor references."""

        async def ready() -> bool:
            row = await self.pool.fetchrow(
                "SELECT (SELECT count(*) FROM order_money WHERE order_id = $1) AS orders, "
                "(SELECT count(*) FROM captures WHERE order_id = $1 AND processor_reference IS NOT NULL) AS captures",
                order_id)
            return row["orders"] == 1 and row["captures"] >= captures

        await eventually(ready, timeout=30, message=f"refunds to know order {order_id} and its captures")

    async def settled(self, merchant_id: str, refund_id: str, *, timeout: float = 30) -> dict[str, Any]:
        """The refund once it is no longer pending."""

        async def done() -> dict[str, Any] | None:
            refund = await self.get_refund(merchant_id, refund_id)
            return refund if refund["status"] != "pending" else None

        return await eventually(done, timeout=timeout, message=f"refund {refund_id} to settle")

    async def order_shows(self, merchant_id: str, order_id: str, check) -> dict[str, Any]:
        """The order (from the orders service) once ``check(order)`` holds."""

        async def read() -> dict[str, Any] | None:
            order = await self.orders.get_order(merchant_id, order_id)
            return order if check(order) else None

        return await eventually(read, timeout=30, message=f"order {order_id} to show what was expected")

    async def ledger_refunds(self, charge_reference: str) -> list[dict[str, Any]]:
        """What the processor actually refunded from a charge."""
        charge = await self.sandbox.get_charge(charge_reference)
        return [refund.model_dump(mode="json") for refund in charge.refunds]

    async def nothing_pending(self) -> None:
        """Waits until no refund is pending anywhere in this service: the sandbox's faults hit
        whichever refund runs next, so a test injecting one waits for the others first."""

        async def quiet() -> bool:
            return await self.pool.fetchval("SELECT count(*) FROM refunds WHERE status = 'pending'") == 0

        await eventually(quiet, timeout=30, message="no refund pending")

    def refund_events(self, order_id: str) -> list[dict[str, Any]]:
        return self.tap.events(REFUNDS_EVENTS, order_id)


async def drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def running_refunds_service(server_url: str, kafka_bootstrap: str, orders: OrdersService,
                                  **overrides: Any) -> AsyncIterator[RefundsService]:
    run = secrets.token_hex(6)
    database, ledger = f"test_refunds_{run}", f"test_refunds_sbx_{run}"
    settings = refunds_settings(server_url, kafka_bootstrap, database, **overrides)
    ledger_settings = sandbox_settings(server_url, ledger)
    groups = create_runtime(settings).consumer_groups()
    consumed = sorted({t for topics in groups.values() for t in topics})
    watched = [REFUNDS_EVENTS, *(dead_letter_topic(t, "refunds") for t in consumed)]
    await ensure_topics(kafka_bootstrap, [*consumed, *watched], partitions=settings.topic_partitions)
    await start_groups_at_end(kafka_bootstrap, groups)
    tap = Tap(kafka_bootstrap, watched)
    await tap.start()
    app = create_app(settings, processor=sandbox_factory(ledger_settings), jwks_transport=orders.issuer.transport)
    try:
        async with await SandboxProcessor.open(ledger_settings) as sandbox, app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://refunds.test", timeout=60) as client:
                yield RefundsService(app, client, app.state.runtime.pool, settings, orders, sandbox, ledger_settings,
                                     tap)
    finally:
        await tap.stop()
        await drop_database(server_url, database)
        await drop_database(server_url, ledger)
