"""The invoicing service running in-process against the real Kafka broker and PostgreSQL,
beside the real orders service, for integration tests: its API through httpx (ASGI) and a real
uvicorn server (for the browser), its consumers, outbox relay, follow-up and mail sender on
the real topics, payments on a sandbox ledger of the tests' own, and mail to an SMTP sink of
the tests' own.

Isolation: a fresh database per service, consumer groups named after it (started at the end
of each topic), fresh merchant and order ids. The clock is the test's: the real time moved
by an offset the test sets (``MovableClock``), so follow-up runs at simulated times.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from flint_chassis.config import with_database
from flint_chassis.topics import ensure_topics
from flint_contracts import event_types as types
from flint_contracts.events import MerchantData, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.topics import INSTALLS_EVENTS, INVOICES_EVENTS, PAYMENTS_EVENTS, dead_letter_topic
from flint_invoicing import mailsink
from flint_invoicing.app import create_app, create_runtime
from flint_invoicing.config import InvoicingSettings
from flint_payments import SandboxProcessor
from tests.orders.service import OrdersService, Tap, order_body, start_groups_at_end
from tests.support.http_server import free_port, serving
from tests.support.polling import eventually
from tests.support.tokens import ISSUER

HTTP_PORTS = range(19000, 19050)  # this workstream's ports
SMTP_PORTS = range(19050, 19100)
WATCHED = [INVOICES_EVENTS, PAYMENTS_EVENTS]


class MovableClock:
    """The real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class MailSink:
    """An SMTP server of the tests' own (``flint_invoicing.mailsink``) keeping messages as files."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port

    def messages(self, invoice_id: str | None = None) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if invoice_id is None or message["X-Flint-Invoice"] == invoice_id:
                found.append(message)
        return found

    async def wait_for(self, invoice_id: str, count: int, *, timeout: float = 30) -> list[EmailMessage]:
        return await eventually(lambda: (m := self.messages(invoice_id)) and len(m) >= count and m,
                                timeout=timeout, message=f"{count} messages about {invoice_id}")


@contextlib.asynccontextmanager
async def running_mail_sink(folder: Path) -> AsyncIterator[MailSink]:
    port = free_port(SMTP_PORTS)
    server = await mailsink.serve(folder, "127.0.0.1", port)
    try:
        yield MailSink(folder, port)
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class InvoicingService:
    app: FastAPI
    client: httpx.AsyncClient
    url: str
    settings: InvoicingSettings
    pool: asyncpg.Pool
    clock: MovableClock
    orders: OrdersService
    sink: MailSink
    sandbox: SandboxProcessor
    tap: Tap
    merchants: dict[str, str] = field(default_factory=dict)

    # --- tokens and HTTP ----------------------------------------------------------------------

    def token(self, merchant_id: str, scopes: str = "invoices:read invoices:write", **kw: Any) -> str:
        kw.setdefault("install_id", None)
        return self.orders.issuer.token(merchant_id, scopes, **kw)

    async def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return await self.client.request(method, path, headers=headers, **kw)

    # --- what invoicing hears from other services ----------------------------------------------

    async def merchant(self, name: str = "Acme Outdoor") -> str:
        """A merchant, announced as installs does (merchant.created), and known to invoicing."""
        merchant_id = new_id("mer")
        data = MerchantData(merchant_id=merchant_id, name=name, created_at=datetime.now(UTC))
        await self.orders.publish(INSTALLS_EVENTS, build_envelope(types.MERCHANT_CREATED, data, source="flint.installs"))
        await eventually(lambda: self.pool.fetchval("SELECT name FROM merchants WHERE id = $1", merchant_id),
                         message=f"invoicing to know {merchant_id}")
        return merchant_id

    async def order(self, merchant_id: str, **body: Any) -> dict:
        """An order created on the orders service, once invoicing has its projection."""
        order = await self.orders.create_order(merchant_id, order_body(**body))
        await self.projected(order["id"], order["version"])
        return order

    async def projected(self, order_id: str, version: int) -> None:
        await eventually(lambda: self._version_at_least(order_id, version),
                         message=f"invoicing to see {order_id} at version {version}")

    async def _version_at_least(self, order_id: str, version: int) -> bool:
        found = await self.pool.fetchval("SELECT version FROM orders WHERE id = $1", order_id)
        return found is not None and found >= version

    # --- invoices -------------------------------------------------------------------------------

    async def create_invoice(self, merchant_id: str, order_id: str, **body: Any) -> dict:
        body = {"order_id": order_id, "due_date": (self.clock.today() + timedelta(days=14)).isoformat(), **body}
        response = await self.call("POST", "/v1/invoices", self.token(merchant_id), json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def get_invoice(self, merchant_id: str, invoice_id: str) -> dict:
        response = await self.call("GET", f"/v1/invoices/{invoice_id}", self.token(merchant_id))
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, topic: str, order_id: str) -> list[dict]:
        return self.tap.events(topic, order_id)

    async def charges_of(self, invoice_id: str) -> list[asyncpg.Record]:
        """What the processor captured for the invoice (its ledger, read directly)."""
        return await self.sandbox._pool.fetch(  # noqa: SLF001 - the test reads the processor's own ledger
            "SELECT reference, amount, currency FROM sandbox_charges WHERE metadata ->> 'invoice_id' = $1", invoice_id)

    async def snapshot(self, merchant_id: str) -> dict[str, list[dict]]:
        """Everything of the merchant's a refused request must leave as it was."""
        of_invoices = "invoice_id IN (SELECT id FROM invoices WHERE merchant_id = $1)"
        queries = {
            "invoices": "SELECT * FROM invoices WHERE merchant_id = $1 ORDER BY id",
            "invoice_numbers": "SELECT * FROM invoice_numbers WHERE merchant_id = $1",
            "pay_links": f"SELECT * FROM pay_links WHERE {of_invoices} ORDER BY token_hash",
            "payment_attempts": f"SELECT * FROM payment_attempts WHERE {of_invoices} ORDER BY payment_id",
            "mail_outbox": f"SELECT id, invoice_id, kind FROM mail_outbox WHERE {of_invoices} ORDER BY id",
            # (dead letters of other tests' messages on the shared topics may not even be JSON)
            "flint_outbox": "SELECT event_id, topic, key, payload FROM flint_outbox WHERE CASE WHEN topic IN "
                            f"('{INVOICES_EVENTS}', '{PAYMENTS_EVENTS}') THEN convert_from(payload, 'UTF8')::jsonb "
                            "->> 'merchant_id' = $1 ELSE false END ORDER BY position",
        }
        return {name: [dict(r) for r in await self.pool.fetch(sql, merchant_id)] for name, sql in queries.items()}


def invoicing_settings(server_url: str, kafka_bootstrap: str, database: str, *, port: int,
                       **overrides: Any) -> InvoicingSettings:
    values = dict(
        database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap, installs_url=ISSUER,
        consumer_group_prefix=f"{database}.", outbox_poll_interval=0.2, consumer_retry_backoff=0.05,
        consumer_park_delays=[0.2, 0.4, 0.8], consumer_redrive_interval=0.05, secret=secrets.token_urlsafe(40),
        public_url=f"http://127.0.0.1:{port}", followup_interval=0.05, mail_interval=0.05, smtp_host="127.0.0.1",
        smtp_timeout=5, mail_retry_delays=[0.2, 0.5, 1],
    )
    return InvoicingSettings(**(values | overrides))


@contextlib.asynccontextmanager
async def running_invoicing_service(
    server_url: str, kafka_bootstrap: str, orders: OrdersService, sink: MailSink, sandbox: SandboxProcessor,
    **overrides: Any,
) -> AsyncIterator[InvoicingService]:
    database = f"test_invoicing_{secrets.token_hex(6)}"
    port = free_port(HTTP_PORTS)
    overrides.setdefault("smtp_port", sink.port)
    settings = invoicing_settings(server_url, kafka_bootstrap, database, port=port, **overrides)
    groups = create_runtime(settings).consumer_groups()
    watched = [*WATCHED, *(dead_letter_topic(t, "invoicing") for t in sorted({t for ts in groups.values() for t in ts}))]
    await ensure_topics(kafka_bootstrap, [*{t for ts in groups.values() for t in ts}, *watched],
                        partitions=settings.topic_partitions)
    await start_groups_at_end(kafka_bootstrap, groups)
    tap = Tap(kafka_bootstrap, watched)
    await tap.start()
    clock = MovableClock()
    app = create_app(settings, jwks_transport=orders.issuer.transport, processor=sandbox, clock=clock)
    try:
        async with app.router.lifespan_context(app), serving(app, port) as url:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=url) as client:
                yield InvoicingService(app, client, url, settings, app.state.runtime.pool, clock, orders, sink,
                                       sandbox, tap)
    finally:
        await tap.stop()
        await drop_database(server_url, database)


async def drop_database(server_url: str, database: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


def database_url_of(service: InvoicingService) -> str:
    return with_database(service.settings.database_url, service.settings.database)
