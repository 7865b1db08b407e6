"""Kafka clients as a plugin runs them: on the plugin listener, with its app's credential."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.structs import TopicPartition

from flint_chassis.kafka_access import AppCredential


def sasl_settings(credential: AppCredential, password: str | None = None) -> dict:
    return {
        "bootstrap_servers": credential.bootstrap_servers,
        "security_protocol": credential.security_protocol,
        "sasl_mechanism": credential.mechanism,
        "sasl_plain_username": credential.username,
        "sasl_plain_password": credential.password if password is None else password,
        "request_timeout_ms": 5000,
    }


def plugin_consumer(credential: AppCredential, *topics: str, group: str | None = None,
                    password: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
        **sasl_settings(credential, password),
    )


def plugin_producer(credential: AppCredential) -> AIOKafkaProducer:
    return AIOKafkaProducer(**sasl_settings(credential))


async def read_values(consumer: AIOKafkaConsumer, count: int, timeout_ms: int = 15000) -> list[bytes]:
    """Up to ``count`` values, waiting at most about ``timeout_ms`` in all."""
    values: list[bytes] = []
    for _ in range(max(1, timeout_ms // 500)):
        batch = await consumer.getmany(timeout_ms=500)
        values += [m.value for messages in batch.values() for m in messages]
        if len(values) >= count:
            break
    return values


async def refusal(consumer: AIOKafkaConsumer, timeout_ms: int = 5000) -> KafkaError | None:
    """Starts ``consumer`` and reads: the error the broker answered with, or None if it read."""
    try:
        await consumer.start()
        await read_values(consumer, 1, timeout_ms)
    except KafkaError as error:
        return error
    finally:
        await consumer.stop()
    return None


async def raw_fetch(credential: AppCredential, topic: str, partition: int = 0) -> tuple[int, bytes | None]:
    """One Fetch request straight to the broker, as a client that skips the metadata checks
    a consumer library makes first: (error code, record bytes) for the partition."""
    settings = sasl_settings(credential)
    client = AIOKafkaClient(**settings)
    await client.bootstrap()
    try:
        node = next(iter(client.cluster.brokers())).nodeId
        response = await client.send(node, FetchRequest(100, 1, 1_000_000, 0, [(topic, [(partition, 0, 1_000_000)])]))
        [(_, [(_, error_code, *_, records)])] = response.topics
        return error_code, records or None
    finally:
        await client.close()


async def publish(bootstrap: str, topic: str, *values: bytes) -> None:
    """Writes as the services do: on the internal listener."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"ord_key")
    finally:
        await producer.stop()


async def publish_to_partition(bootstrap: str, topic: str, value: bytes, partition: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, partition=partition)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """How many messages each partition of ``topic`` holds, read on the internal listener."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        offsets = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()
