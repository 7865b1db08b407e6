"""The installs service with event delivery on, for the delivery tests: settings with short
retries and timeouts, its router's consumer group started at the current end of the topics
it reads (a run never re-reads earlier runs' events), and, afterwards, the ACLs, SCRAM users
and topics its apps got on the shared broker removed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from flint_chassis.kafka_access import KafkaAccess
from flint_chassis.topics import ensure_topics
from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import app_topic
from flint_installs.app import create_app
from flint_installs.config import InstallsSettings
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery import router
from flint_installs.delivery.router import ROUTED_TOPICS
from tests.installs.delivery.conftest import dev_settings
from tests.installs.support import Flint, settings_for
from tests.orders.service import start_groups_at_end


def fast_webhooks(**overrides: Any) -> DeliverySettings:
    """Loopback receivers allowed; retries within a second; a lease of 3 s (after a crash)."""
    values = {"retry_first_delay": 0.2, "retry_max_delay": 1.0, "poll_interval": 0.1, "claim_lease": 3.0} | overrides
    return dev_settings(**values)


def delivering_settings(server_url: str, database_url: str, kafka_bootstrap: str, plugin_bootstrap: str,
                        **overrides: Any) -> InstallsSettings:
    values: dict[str, Any] = dict(
        deliver_events=True, kafka_plugin_bootstrap=plugin_bootstrap, webhooks=fast_webhooks(),
        kafka_access_interval=0.5, consumer_retry_backoff=0.05, consumer_redrive_interval=0.05,
        consumer_park_delays=[0.2, 0.4, 0.8],
    ) | overrides
    return settings_for(server_url, database_url, kafka_bootstrap, **values)


async def start_router_at_end(settings: InstallsSettings) -> None:
    await ensure_topics(settings.kafka_bootstrap_servers, ROUTED_TOPICS, partitions=settings.topic_partitions)
    groups = {settings.group(s.name): s.topics for s in router.subscriptions()}
    await start_groups_at_end(settings.kafka_bootstrap_servers, groups)


@contextlib.asynccontextmanager
async def delivering_installs(settings: InstallsSettings, *, start_router: bool = True) -> AsyncIterator[Flint]:
    """The service in-process with its real lifespan (router, relay, sender, access sync when
    its role runs the worker), driven through its HTTP API. ``start_router=False`` when the
    router's group was started at the end already (a worker process of it runs)."""
    if start_router:
        await start_router_at_end(settings)
    app = create_app(settings)
    app_ids: list[str] = []
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client:
                driver = Flint(client, app.state.installs)
                driver.app = app
                try:
                    yield driver
                finally:
                    app_ids = [row["id"] for row in await driver.pool.fetch("SELECT id FROM apps")]
    finally:
        await forget_apps(settings.kafka_bootstrap_servers, settings.kafka_plugin_bootstrap, app_ids)


async def forget_apps(kafka_bootstrap: str, plugin_bootstrap: str, app_ids: Iterable[str]) -> None:
    """Remove what the apps got on the shared broker: ACLs, SCRAM users and topics."""
    app_ids = list(app_ids)
    access = KafkaAccess(kafka_bootstrap, plugin_bootstrap, timeout=10)
    for app_id in app_ids:
        await access.revoke_all(app_id)
        await access.delete_credential(app_id)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        leftover = [app_topic(a) for a in app_ids if app_topic(a) in existing]
        if leftover:
            await admin.delete_topics(leftover)
    finally:
        await admin.close()


async def publish(kafka_bootstrap: str, topic: str, *events: EventEnvelope) -> None:
    """Write events as their producing service does: internal listener, key = subject."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, event.to_bytes(), key=(event.subject or "").encode(),
                                         headers=[("flint-event-id", event.id.encode())])
    finally:
        await producer.stop()
