"""Issue 7, reproduction 2: after PostgreSQL restarts, the relay listens again on its own, so
publishing is as quick as before (not the 1 s polling fallback), without restarting it."""

from __future__ import annotations

import asyncio
import statistics
import time

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from flint_chassis import outbox
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_chassis.outbox import OutboxRelay
from tests.chassis import ledger
from tests.support.polling import eventually
from tests.support.postgres_cluster import PostgresCluster

pytestmark = pytest.mark.integration
SAMPLES = 15


@pytest.fixture
def cluster():
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.remove()


async def publish_latencies(pool: asyncpg.Pool, reader: AIOKafkaConsumer, topic: str) -> list[float]:
    """Seconds from the commit of an outbox row to its event being read from Kafka."""
    latencies = []
    for _ in range(SAMPLES):
        event = ledger.deposit(ledger.account(), 1)
        started = time.monotonic()
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, topic, event)
        while True:
            record = await asyncio.wait_for(reader.getone(), 10)
            if record.key == event.subject.encode():
                break
        latencies.append(time.monotonic() - started)
    return latencies


async def test_after_a_postgres_restart_the_relay_publishes_as_fast_as_before(cluster, kafka_bootstrap, new_topics):
    # given a relay with the default 1 s polling fallback, on a server of the test's own
    [topic] = await new_topics("restart", partitions=1)
    pool = await asyncpg.create_pool(cluster.url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn, [("chassis", CHASSIS_MIGRATIONS)])
    relay = OutboxRelay(pool, kafka_bootstrap, poll_interval=1.0)
    await relay.start()
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False)
    await reader.start()
    reader.assign([TopicPartition(topic, 0)])
    await reader.seek_to_end(TopicPartition(topic, 0))
    try:
        before = statistics.median(await publish_latencies(pool, reader, topic))
        # when PostgreSQL stops as in a crash and starts again
        cluster.stop_immediately()
        cluster.start()
        await eventually(lambda: _writable(pool), timeout=30, message="the database to take writes again")
        await eventually(lambda: relay.listener.listening, timeout=10, message="the relay to listen again")
        # then p50 publish latency is back under 50 ms, the relay never restarted
        after = statistics.median(await publish_latencies(pool, reader, topic))
        print(f"p50 publish latency: {before * 1000:.1f} ms before, {after * 1000:.1f} ms after the restart")
        assert after < 0.050, f"p50 {after * 1000:.0f} ms after the restart (before: {before * 1000:.0f} ms)"
        assert relay.listener.subscriptions >= 2
    finally:
        await reader.stop()
        await relay.stop()
        await pool.close()


async def _writable(pool: asyncpg.Pool) -> bool:
    try:
        await pool.execute("SELECT 1")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True
