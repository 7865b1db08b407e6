"""The moving parts of one service process, started and stopped in the right order:
database (created if missing, migrated), topics, outbox relay, Kafka consumers and their
re-drivers of parked messages.

A service's ``app.py`` builds one ``ServiceRuntime`` and runs ``runtime.lifespan`` in its
FastAPI app's lifespan; nothing connects at import time. What runs follows the settings'
``role`` (``python -m flint_<service> --role api|worker|all``): ``api`` runs neither the
relay nor the consumers, ``worker`` and ``all`` run both.

``runtime.metrics`` (``flint_chassis.runtime_metrics``) reads its state on each scrape of
``/metrics``: the outbox backlog, consumer lag, parked messages and the pools. The checks of
``health_checks()`` carry it, so ``service_app`` serves it without the service writing a line.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker

from flint_chassis import db, kafka_connections
from flint_chassis.config import ServiceSettings
from flint_chassis.consumer import ConsumerOptions, ErrorRules, Subscription, SubscriptionConsumer
from flint_chassis.health import Check, Degraded, database_check
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_chassis.outbox import OutboxRelay
from flint_chassis.problems import SERVICE_UNAVAILABLE, Problem
from flint_chassis.runtime_metrics import PoolGetter, RuntimeMetrics
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import dead_letter_topic

log = logging.getLogger("flint.runtime")

# A relay that fails for a moment (a broker restart) is normal; longer, it is worth a word.
RELAY_DEGRADED_AFTER = 5.0


class RuntimeChecks(dict[str, Check]):
    """The health checks of a runtime, which also hand ``service_app`` the runtime's metrics."""

    def __init__(self, checks: dict[str, Check], metrics: RuntimeMetrics) -> None:
        super().__init__(checks)
        self.metrics = metrics


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        migrations: Path | None = None,
        produces: Iterable[str] = (),
        subscriptions: Iterable[Subscription] = (),
        errors: ErrorRules | None = None,
        run_relay: bool | None = None,
        run_consumers: bool | None = None,
    ) -> None:
        """``errors`` classifies the service's own exceptions for every subscription
        (``flint_chassis.consumer.ErrorRules``). ``run_relay`` and ``run_consumers``
        default to the settings' role."""
        self.settings = settings
        self.service = settings.service_name
        self._migrations = migrations
        self._produces = tuple(produces)
        self.subscriptions = tuple(subscriptions)
        self._errors = errors
        self._run_relay = settings.runs_worker if run_relay is None else run_relay
        self._run_consumers = settings.runs_worker if run_consumers is None else run_consumers
        self.pool: asyncpg.Pool | None = None
        self.relay: OutboxRelay | None = None
        self.broker: KafkaBroker | None = None
        self.consumers: list[SubscriptionConsumer] = []
        self.metrics = RuntimeMetrics(self, settings.version)

    def watch_pool(self, name: str, pool: PoolGetter) -> None:
        """Report another connection pool of the service in ``flint_db_pool_*`` (the runtime's
        own is ``main``); ``pool()`` returns None while it is not open."""
        self.metrics.watch_pool(name, pool)

    @property
    def ready_pool(self) -> asyncpg.Pool:
        """The pool, for a request: until the service has connected, a 503 with ``Retry-After``."""
        if self.pool is None:
            raise Problem(SERVICE_UNAVAILABLE, "the database is not connected yet", headers={"Retry-After": "1"})
        return self.pool

    def consumer_groups(self) -> dict[str, tuple[str, ...]]:
        """Each subscription's Kafka group id (also its inbox name) and topics."""
        return {self.settings.group(s.name): s.topics for s in self.subscriptions}

    def bind(self, subscription: Subscription, pool: asyncpg.Pool | None) -> SubscriptionConsumer:
        return SubscriptionConsumer(subscription, pool, service=self.service,
                                    group=self.settings.group(subscription.name),
                                    options=ConsumerOptions.from_settings(self.settings), errors=self._errors)

    async def start(self) -> None:
        s = self.settings
        kafka_connections.install()  # before any Kafka client: a reset connection must not kill a consumer
        await db.ensure_database(s.database_url, s.database)
        # Services keep session state in transactions only (db.create_pool), so a connection
        # goes back to the pool without a reset round trip.
        self.pool = await db.create_pool(s.service_database_url, min_size=s.db_pool_min, max_size=s.db_pool_max,
                                         reset=False)
        sources = [("chassis", CHASSIS_MIGRATIONS)]
        if self._migrations is not None:
            sources.append((self.service, self._migrations))
        async with self.pool.acquire() as conn:
            applied = await migrate(conn, sources)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))

        if self._run_consumers:
            self.consumers = [self.bind(s, self.pool) for s in self.subscriptions]
        consumed = {t for c in self.consumers for t in c.topics}
        dead_letters = {dead_letter_topic(t, self.service) for t in consumed}
        await ensure_topics(s.kafka_bootstrap_servers, sorted(set(self._produces) | consumed | dead_letters),
                            partitions=s.topic_partitions)

        if self._run_relay:
            self.relay = OutboxRelay(self.pool, s.kafka_bootstrap_servers, name=self.service,
                                     poll_interval=s.outbox_poll_interval, linger=s.outbox_linger)
            await self.relay.start()
        if self.consumers:
            # FastStream's own "Received"/"Processed" lines say less than the chassis' line per
            # message (flint_chassis.consumer.observe): DEBUG.
            self.broker = KafkaBroker(s.kafka_bootstrap_servers, client_id=f"flint-{self.service}",
                                      logger=logging.getLogger(f"flint.{self.service}.kafka"), log_level=logging.DEBUG)
            for consumer in self.consumers:
                consumer.register(self.broker)
            await self.broker.start()
            for consumer in self.consumers:
                consumer.start_redriver()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop_redriver()
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    def health_checks(self) -> RuntimeChecks:
        """``database`` always; ``kafka`` (degraded, never failing: writes still land in the
        outbox) and ``consumers`` (failing when a partition is stalled) where they run."""
        checks: dict[str, Check] = {"database": database_check(lambda: self.pool)}
        if self._run_relay or (self._run_consumers and self.subscriptions):
            checks["kafka"] = self._kafka_check
        if self._run_consumers and self.subscriptions:
            checks["consumers"] = self._consumers_check
        return RuntimeChecks(checks, self.metrics)

    async def _kafka_check(self) -> None:
        if self.broker is not None and not await self.broker.ping(timeout=2):
            raise Degraded("Kafka does not answer; writes wait in the outbox")
        relay = self.relay
        if relay is not None and relay.failing_since is not None:
            failing_for = time.monotonic() - relay.failing_since
            if failing_for > RELAY_DEGRADED_AFTER:
                raise Degraded(f"the outbox relay cannot publish for {failing_for:.0f}s: {relay.last_error}")

    async def _consumers_check(self) -> None:
        stalls = [stall for consumer in self.consumers for stall in await consumer.stalls()]
        if stalls:
            raise RuntimeError("stalled: " + "; ".join(stalls))

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
