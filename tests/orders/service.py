"""The orders service running in-process against the real Kafka broker and PostgreSQL, for
integration tests: its API through httpx.ASGITransport, its consumers and outbox relay on
the real topics, its tokens from tests/support/tokens.TestIssuer.

Topics are the real ones (flint_contracts.topics). A run is isolated by its fresh database,
consumer groups named after that database (started at the current end of each topic, so a
run never re-reads earlier runs' messages), and unique merchant and order ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from flint_chassis.config import with_database
from flint_chassis.topics import ensure_topics
from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import ORDERS_EVENTS, dead_letter_topic
from flint_orders.app import create_app, create_runtime
from flint_orders.config import OrdersSettings
from tests.support.polling import eventually
from tests.support.tokens import ISSUER, TestIssuer


async def partitions_of(bootstrap: str, topics: list[str] | tuple[str, ...]) -> list[TopicPartition]:
    """Every partition of ``topics``, waiting for topics created a moment ago to show up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()

    async def known() -> list[TopicPartition] | None:
        described = await admin.describe_topics(list(topics))
        if any(d["error_code"] or not d["partitions"] for d in described):
            return None
        return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]

    try:
        return await eventually(known, timeout=20, interval=0.2, message=f"partitions of {topics}")
    finally:
        await admin.close()


async def start_groups_at_end(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> None:
    """Commit each consumer group's offsets at the current end of its topics, so a new group
    reads only what is published from now on (never the topic's whole history)."""
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = await partitions_of(bootstrap, topics)
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit(dict(ends))
        finally:
            await consumer.stop()


class Tap:
    """Reads topics from their current end in the background and keeps every record."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._bootstrap, self._topics = bootstrap, topics
        self.records: list[ConsumerRecord] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False)
        await self._consumer.start()
        partitions = await partitions_of(self._bootstrap, self._topics)
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve positions now, before anything is published
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()

    def events(self, topic: str, subject: str) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in self.records if r.topic == topic and r.key == subject.encode()]

    def headers(self, topic: str, event_id: str) -> list[dict[str, str]]:
        found = []
        for record in self.records:
            headers = {k: v.decode() for k, v in record.headers}
            if record.topic == topic and headers.get("flint-event-id") == event_id:
                found.append(headers)
        return found


@dataclass
class OrdersService:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: TestIssuer
    producer: AIOKafkaProducer
    tap: Tap
    pool: asyncpg.Pool
    settings: OrdersSettings
    tokens: dict[str, str] = field(default_factory=dict)

    # --- tokens -------------------------------------------------------------------------------

    def merchant_token(self, merchant_id: str, scopes: str = "orders:read orders:write") -> str:
        return self.issuer.token(merchant_id, scopes, install_id=None)

    def app_token(self, merchant_id: str, scopes: str = "orders:read orders:write", **kw: Any) -> str:
        return self.issuer.token(merchant_id, scopes, **kw)

    # --- HTTP ---------------------------------------------------------------------------------

    async def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return await self.client.request(method, path, headers=headers, **kw)

    async def create_order(self, merchant_id: str, body: dict | None = None, **kw: Any) -> dict:
        response = await self.call("POST", "/v1/orders", self.merchant_token(merchant_id), json=body or order_body(), **kw)
        assert response.status_code == 201, response.text
        return response.json()

    async def get_order(self, merchant_id: str, order_id: str) -> dict:
        response = await self.call("GET", f"/v1/orders/{order_id}", self.merchant_token(merchant_id, "orders:read"))
        assert response.status_code == 200, response.text
        return response.json()

    # --- Kafka --------------------------------------------------------------------------------

    async def publish(self, topic: str, event: EventEnvelope, key: str | None = None) -> EventEnvelope:
        await self.producer.send_and_wait(topic, event.to_bytes(), key=(key or event.subject).encode(),
                                          headers=[("flint-event-id", event.id.encode())])
        return event

    async def order_events(self, order_id: str, count: int, *, timeout: float = 20) -> list[dict]:
        """The first ``count`` order events of the order, waiting for them."""
        events = await eventually(lambda: (e := self.tap.events(ORDERS_EVENTS, order_id)) and len(e) >= count and e,
                                  timeout=timeout, message=f"{count} order events of {order_id}")
        return events

    async def dead_letter(self, topic: str, event_id: str, *, timeout: float = 20) -> dict[str, str]:
        found = await eventually(lambda: self.dead_letters(topic, event_id), timeout=timeout,
                                 message=f"dead letter of {event_id}")
        return found[0]

    def dead_letters(self, topic: str, event_id: str) -> list[dict[str, str]]:
        """This run's dead letters of the event: other orders services reading the same topics
        (other test runs on a shared broker) write to the same dead-letter topic."""
        return [headers for headers in self.tap.headers(dead_letter_topic(topic, "orders"), event_id)
                if headers.get("flint-dlq-consumer", "").startswith(self.settings.consumer_group_prefix)]


def order_body(**overrides: Any) -> dict:
    """2 mugs at 10.00 + 3.80 tax + 5.00 shipping = 28.80 EUR unless told otherwise."""
    body = {
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "currency": "EUR",
        "line_items": [{"title": "Mug", "sku": "MUG-1", "quantity": 2,
                        "unit_price": {"amount": 1000, "currency": "EUR"}, "tax": {"amount": 380, "currency": "EUR"}}],
        "shipping": {"amount": 500, "currency": "EUR"},
    }
    body.update(overrides)
    return body


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


@contextlib.asynccontextmanager
async def running_orders_service(server_url: str, kafka_bootstrap: str) -> AsyncIterator[OrdersService]:
    database = f"test_orders_{secrets.token_hex(6)}"
    settings = OrdersSettings(
        database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
        installs_url=ISSUER, consumer_group_prefix=f"{database}.", outbox_poll_interval=0.2,
        consumer_retry_backoff=0.05, consumer_park_delays=[0.2, 0.4, 0.8], consumer_redrive_interval=0.05,
        secret=secrets.token_urlsafe(40),
    )
    groups = create_runtime(settings).consumer_groups()
    consumed = sorted({t for topics in groups.values() for t in topics})
    watched = [ORDERS_EVENTS, *(dead_letter_topic(t, "orders") for t in consumed)]
    await ensure_topics(kafka_bootstrap, [*consumed, *watched], partitions=settings.topic_partitions)
    await start_groups_at_end(kafka_bootstrap, groups)
    tap = Tap(kafka_bootstrap, watched)
    await tap.start()
    issuer = TestIssuer()
    app = create_app(settings, jwks_transport=issuer.transport)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as client:
                yield OrdersService(app, client, issuer, producer, tap, app.state.runtime.pool, settings)
    finally:
        await producer.stop()
        await tap.stop()
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


def database_url_of(service: OrdersService) -> str:
    return with_database(service.settings.database_url, service.settings.database)
