"""A row committed while the relay is still busy with a batch goes out at once, not after the
polling fallback: the NOTIFY of its commit arrives during the batch and must not be lost."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from flint_chassis import outbox
from flint_chassis.outbox import OutboxRelay
from tests.chassis import ledger

pytestmark = pytest.mark.integration


class CommitsDuringItsBatch(OutboxRelay):
    """A relay that, in the middle of its first batch (published, not marked yet), sees another
    row committed: its NOTIFY arrives while the batch runs."""

    def __init__(self, *args, late_row, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._late_row = late_row
        self.committed_late_at: float | None = None

    async def before_mark(self, rows) -> None:
        if self.committed_late_at is None:
            await self._late_row()
            self.committed_late_at = time.monotonic()
            await asyncio.sleep(0.2)  # the notification is delivered meanwhile


async def test_a_row_committed_during_a_batch_is_published_without_waiting_for_the_poll(pool, kafka_bootstrap,
                                                                                         new_topics):
    [topic] = await new_topics("wakeups", partitions=1)
    first, late = ledger.deposit(ledger.account(), 1), ledger.deposit(ledger.account(), 2)

    async def commit(event) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, topic, event)

    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, enable_auto_commit=False)
    await reader.start()
    reader.assign([TopicPartition(topic, 0)])
    await reader.seek_to_end(TopicPartition(topic, 0))
    # a polling fallback far longer than the test waits: only a NOTIFY can wake the relay in time
    relay = CommitsDuringItsBatch(pool, kafka_bootstrap, poll_interval=60.0, late_row=lambda: commit(late))
    await relay.start()
    try:
        await commit(first)
        seen: dict[bytes, float] = {}
        while len(seen) < 2:
            record = await asyncio.wait_for(reader.getone(), 10)
            seen.setdefault(record.key, time.monotonic())
        assert relay.committed_late_at is not None
        assert seen[late.subject.encode()] - relay.committed_late_at < 5.0
    finally:
        await relay.stop()
        await reader.stop()
