"""The metrics read when Prometheus scrapes, from one service's runtime.

- ``flint_outbox_backlog``: outbox rows not yet published; ``flint_outbox_oldest_unpublished_age_seconds``:
  how long the oldest of them has waited (0 when none does). Both from the service database,
  whatever process published or not: a backlog that grows means the relay is behind or down.
- ``flint_consumer_lag{consumer, topic, partition}``: messages on the broker past what this
  process' consumer has taken care of, per assigned partition.
- ``flint_consumer_parked_messages{consumer}``: messages parked to be tried again.
- ``flint_db_pool_connections{pool, state}`` (``in_use``, ``idle``) and
  ``flint_db_pool_max_connections{pool}``: each connection pool the service watches.
- ``flint_build_info{service, version}``: 1, labelled with what runs.

Each runtime keeps its own registry for these (two services in one test process never mix),
rendered after prometheus-client's default registry by :meth:`RuntimeMetrics.render`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from flint_chassis.runtime import ServiceRuntime

log = logging.getLogger("flint.metrics")

SCRAPE_QUERY_TIMEOUT = 2.0
_OUTBOX = """
SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
FROM flint_outbox WHERE published_at IS NULL
"""
_PARKED = "SELECT consumer, count(*) AS parked FROM flint_parked WHERE consumer = ANY($1::text[]) GROUP BY consumer"

PoolGetter = Callable[[], asyncpg.Pool | None]


@dataclass
class Snapshot:
    """What one scrape read; families are absent when their source did not answer."""

    outbox: tuple[int, float] | None = None
    parked: dict[str, int] = field(default_factory=dict)
    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)
    pools: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name: (in use, idle, max)


class RuntimeMetrics:
    """Reads a runtime's state on each scrape; a prometheus-client collector of its own registry."""

    def __init__(self, runtime: ServiceRuntime, version: str) -> None:
        self.runtime = runtime
        self.version = version
        self.pools: dict[str, PoolGetter] = {"main": lambda: runtime.pool}
        self._snapshot = Snapshot()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def watch_pool(self, name: str, pool: PoolGetter) -> None:
        """Also report the connection pool ``pool()`` returns (None while it is not open)."""
        self.pools[name] = pool

    async def render(self) -> bytes:
        """The whole ``/metrics`` answer: the process-wide metrics, then this runtime's."""
        await self.refresh()
        return generate_latest(REGISTRY) + generate_latest(self.registry)

    async def refresh(self) -> None:
        snapshot = Snapshot(pools=self._pool_usage())
        pool = self.runtime.pool
        if pool is not None:
            snapshot.outbox, snapshot.parked = await self._from_database(pool)
        for consumer in self.runtime.consumers:
            try:
                lags = await asyncio.wait_for(consumer.lag(), SCRAPE_QUERY_TIMEOUT)
            except Exception as error:  # a scrape reports what it can
                log.debug("lag of %s not read: %s", consumer.name, error)
                continue
            snapshot.lag.update({(consumer.name, topic, partition): lag for (topic, partition), lag in lags.items()})
        self._snapshot = snapshot

    async def _from_database(self, pool: asyncpg.Pool) -> tuple[tuple[int, float] | None, dict[str, int]]:
        consumers = [consumer.name for consumer in self.runtime.consumers]
        try:
            async with pool.acquire(timeout=SCRAPE_QUERY_TIMEOUT) as conn:
                row = await conn.fetchrow(_OUTBOX, timeout=SCRAPE_QUERY_TIMEOUT)
                parked = await conn.fetch(_PARKED, consumers, timeout=SCRAPE_QUERY_TIMEOUT) if consumers else []
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.debug("outbox backlog not read: %s", error)
            return None, {}
        counts = {name: 0 for name in consumers} | {r["consumer"]: r["parked"] for r in parked}
        return (row["backlog"], row["oldest"]), counts

    def _pool_usage(self) -> dict[str, tuple[int, int, int]]:
        usage = {}
        for name, get in self.pools.items():
            pool = get()
            if pool is not None and not pool.is_closing():
                size, idle = pool.get_size(), pool.get_idle_size()
                usage[name] = (size - idle, idle, pool.get_max_size())
        return usage

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        build = GaugeMetricFamily("flint_build_info", "What runs: the service and its version.",
                                  labels=["service", "version"])
        build.add_metric([self.runtime.service, self.version], 1)
        yield build
        if snapshot.outbox is not None:
            backlog, oldest = snapshot.outbox
            yield GaugeMetricFamily("flint_outbox_backlog", "Outbox rows not yet published to Kafka.", value=backlog)
            yield GaugeMetricFamily("flint_outbox_oldest_unpublished_age_seconds",
                                    "How long the oldest unpublished outbox row has waited (0 when none).",
                                    value=oldest)
        yield from self._consumer_families(snapshot)
        yield from self._pool_families(snapshot)

    @staticmethod
    def _consumer_families(snapshot: Snapshot) -> Iterator[Metric]:
        lag = GaugeMetricFamily("flint_consumer_lag", "Messages on the broker past what the consumer took care of.",
                                labels=["consumer", "topic", "partition"])
        for (consumer, topic, partition), value in sorted(snapshot.lag.items()):
            lag.add_metric([consumer, topic, str(partition)], value)
        yield lag
        parked = GaugeMetricFamily("flint_consumer_parked_messages", "Messages parked to be tried again later.",
                                   labels=["consumer"])
        for consumer, value in sorted(snapshot.parked.items()):
            parked.add_metric([consumer], value)
        yield parked

    @staticmethod
    def _pool_families(snapshot: Snapshot) -> Iterator[Metric]:
        connections = GaugeMetricFamily("flint_db_pool_connections", "Connections of a database pool, by state.",
                                        labels=["pool", "state"])
        largest = GaugeMetricFamily("flint_db_pool_max_connections", "Most connections a database pool opens.",
                                    labels=["pool"])
        for name, (in_use, idle, most) in sorted(snapshot.pools.items()):
            connections.add_metric([name, "in_use"], in_use)
            connections.add_metric([name, "idle"], idle)
            largest.add_metric([name], most)
        yield connections
        yield largest
