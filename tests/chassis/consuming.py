"""Helpers for consumer tests on the real broker: start a subscription like a service does,
produce raw bytes like a hostile producer would, read what reached a topic."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker

from flint_chassis.consumer import ConsumerOptions, Subscription, SubscriptionConsumer
from flint_chassis.outbox import OutboxRelay
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.support.polling import eventually

SERVICE = "ledger"
# Short delays so a test sees a parked message come back in well under a second.
FAST = ConsumerOptions(retry_backoff=0.01, infra_backoff_max=0.2, conflict_retries=2, park_delays=(0.2, 0.3, 0.5),
                       redrive_interval=0.05, stall_seconds=60)


@dataclass
class Running:
    brokers: list[KafkaBroker]
    consumers: list[SubscriptionConsumer]

    @property
    def consumer(self) -> SubscriptionConsumer:
        return self.consumers[0]

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop_redriver()
        for broker in self.brokers:
            await broker.stop()


async def start(bootstrap: str, pool: asyncpg.Pool, subscription: Subscription, *, group: str,
                options: ConsumerOptions = FAST, replicas: int = 1, wait_for: int | None = None) -> Running:
    """``replicas`` consumers of one group (as replicas of a worker would be), started and
    holding ``wait_for`` partitions between them (default: at least one each)."""
    await ensure_topics(bootstrap, [dead_letter_topic(t, SERVICE) for t in subscription.topics])
    consumers, brokers = [], []
    for _ in range(replicas):
        broker = KafkaBroker(bootstrap)
        consumer = SubscriptionConsumer(subscription, pool, service=SERVICE, group=group, options=options)
        consumer.register(broker)
        brokers.append(broker)
        consumers.append(consumer)
    for broker in brokers:
        await broker.start()
    for consumer in consumers:
        consumer.start_redriver()
    await eventually(lambda: _assigned(consumers, wait_for), timeout=30, message="partitions assigned")
    return Running(brokers, consumers)


def _assigned(consumers: list[SubscriptionConsumer], wait_for: int | None) -> bool:
    held = [len(c.subscriber.consumer.assignment()) if c.subscriber.consumer else 0 for c in consumers]
    return sum(held) >= wait_for if wait_for is not None else all(held)


async def start_ledger(bootstrap: str, pool: asyncpg.Pool, topic: str, **kwargs) -> Running:
    return await start(bootstrap, pool, ledger.subscription("deposits", topic), group=f"ledger-{topic}", **kwargs)


async def start_relay(pool: asyncpg.Pool, bootstrap: str, **kwargs) -> OutboxRelay:
    relay = OutboxRelay(pool, bootstrap, poll_interval=kwargs.pop("poll_interval", 0.2), **kwargs)
    await relay.start()
    return relay


async def produce(bootstrap: str, topic: str, *messages: tuple[bytes | None, bytes, list], partition: int = 0) -> list[int]:
    """Raw ``(key, value, headers)`` straight onto one partition; returns their offsets."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = [await producer.send_and_wait(topic, value, key=key, headers=headers, partition=partition)
                for key, value, headers in messages]
    finally:
        await producer.stop()
    return [metadata.offset for metadata in sent]


async def committed(running: Running, topic: str, partition: int = 0) -> int | None:
    """The group's committed offset of the partition (the next message it will read)."""
    client = next(c.subscriber.consumer for c in running.consumers if c.subscriber.consumer)
    return await client.committed(TopicPartition(topic, partition))


async def read(bootstrap: str, topic: str, expected: int, timeout: float = 20) -> list[ConsumerRecord]:
    """Every record of ``topic`` once ``expected`` are there (or all there are after ``timeout``)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def headers_of(record: ConsumerRecord) -> dict[str, bytes]:
    return dict(record.headers)
