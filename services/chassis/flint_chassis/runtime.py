"""The moving parts of one service process, started and stopped in the right order:
database (created if missing, migrated), topics, outbox relay, Kafka consumers.

A service's ``app.py`` builds one ``ServiceRuntime`` and hands ``runtime.lifespan`` to its
FastAPI app; nothing connects at import time.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker

from flint_chassis import db
from flint_chassis.config import ServiceSettings
from flint_chassis.consumer import EventConsumer
from flint_chassis.health import Check, database_check
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_chassis.outbox import OutboxRelay
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import dead_letter_topic

log = logging.getLogger("flint.runtime")

ConsumerFactory = Callable[[asyncpg.Pool], Iterable[EventConsumer]]


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        migrations: Path | None = None,
        produces: Iterable[str] = (),
        consumers: ConsumerFactory = lambda pool: (),
        run_relay: bool = True,
        run_consumers: bool = True,
    ) -> None:
        self.settings = settings
        self.service = settings.service_name
        self._migrations = migrations
        self._produces = tuple(produces)
        self._consumer_factory = consumers
        self._run_relay = run_relay
        self._run_consumers = run_consumers
        self.pool: asyncpg.Pool | None = None
        self.relay: OutboxRelay | None = None
        self.broker: KafkaBroker | None = None
        self.consumers: list[EventConsumer] = []

    async def start(self) -> None:
        s = self.settings
        await db.ensure_database(s.database_url, s.database)
        self.pool = await db.create_pool(s.service_database_url, min_size=s.db_pool_min, max_size=s.db_pool_max)
        sources = [("chassis", CHASSIS_MIGRATIONS)]
        if self._migrations is not None:
            sources.append((self.service, self._migrations))
        async with self.pool.acquire() as conn:
            applied = await migrate(conn, sources)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))

        self.consumers = list(self._consumer_factory(self.pool)) if self._run_consumers else []
        consumed = {t for c in self.consumers for t in c.topics}
        dead_letters = {dead_letter_topic(t, self.service) for t in consumed}
        await ensure_topics(s.kafka_bootstrap_servers, sorted(set(self._produces) | consumed | dead_letters),
                            partitions=s.topic_partitions)

        if self._run_relay:
            self.relay = OutboxRelay(self.pool, s.kafka_bootstrap_servers, name=self.service,
                                     poll_interval=s.outbox_poll_interval)
            await self.relay.start()
        if self.consumers:
            self.broker = KafkaBroker(s.kafka_bootstrap_servers, client_id=f"flint-{self.service}",
                                      logger=logging.getLogger(f"flint.{self.service}.kafka"))
            for consumer in self.consumers:
                consumer.register(self.broker)
            await self.broker.start()

    async def stop(self) -> None:
        if self.broker is not None:
            await self.broker.stop()
            self.broker = None
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    def health_checks(self) -> dict[str, Check]:
        checks: dict[str, Check] = {"database": database_check(lambda: self.pool)}
        if self._run_consumers and self._consumer_factory is not None:
            async def kafka() -> None:
                if self.broker is not None and not await self.broker.ping(timeout=2):
                    raise RuntimeError("Kafka does not answer")

            checks["kafka"] = kafka
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
