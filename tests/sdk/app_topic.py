"""Filling an app's topic for the consumer tests, as the services would.

The router that copies order events to ``flint.app.<app_id>.v1`` is not built yet, so
:class:`OrderEventCopier` stands in for it: it reads what the real orders service publishes
on ``flint.orders.events.v1`` and writes the events of the given orders, key and bytes
unchanged and in the order read, to the app's topic on the internal listener.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import ORDERS_EVENTS
from tests.orders.service import partitions_of


class OrderEventCopier:
    """Reads the orders topic from its current end; copies chosen orders' events to a topic."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)

    async def __aenter__(self) -> OrderEventCopier:
        await self._consumer.start()
        await self._producer.start()
        partitions = await partitions_of(self._bootstrap, [ORDERS_EVENTS])
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:  # fix the start now, before the test creates anything
            await self._consumer.position(partition)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def copy(self, order_ids: Collection[str], count: int, topic: str,
                   timeout: float = 30) -> list[ConsumerRecord]:
        """Copies the first ``count`` events of ``order_ids`` to ``topic``; returns what it read."""
        wanted = {order_id.encode() for order_id in order_ids}
        records: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {len(records)} of {count} order events arrived in {timeout}s")
            batch = await self._consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(r for r in partition_records if r.key in wanted)
        for record in records:
            await self._producer.send_and_wait(topic, record.value, key=record.key, headers=list(record.headers))
        return records


async def publish(bootstrap: str, topic: str, *events: EventEnvelope) -> None:
    """Writes events to a topic as a service does (internal listener, key = subject)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, event.to_bytes(), key=(event.subject or "").encode())
    finally:
        await producer.stop()


async def partitions_used(bootstrap: str, topic: str) -> set[int]:
    """The partitions of ``topic`` that hold at least one message."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions_of(bootstrap, [topic]))
    finally:
        await consumer.stop()
    return {tp.partition for tp, end in ends.items() if end > 0}


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The offsets ``group`` committed on ``topic``, by partition (read as the super user)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


async def partition_and_offset(bootstrap: str, topic: str, event_id: str) -> tuple[int, int]:
    """Where an event sits on a topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, [topic])
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for partition in partitions:
            consumer.seek(partition, 0)
            while await consumer.position(partition) < ends[partition]:
                batch = await consumer.getmany(partition, timeout_ms=500)
                for record in batch.get(partition, []):
                    mentions = event_id.encode() in (record.value or b"")
                    if mentions and EventEnvelope.from_bytes(record.value).id == event_id:
                        return partition.partition, record.offset
    finally:
        await consumer.stop()
    raise AssertionError(f"{event_id} is not on {topic}")


__all__ = ["OrderEventCopier", "committed", "partition_and_offset", "partitions_used", "publish"]
