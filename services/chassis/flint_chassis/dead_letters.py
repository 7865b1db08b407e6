"""Operator tools for dead-letter topics: list what is there, and replay it to its source.

    python -m flint_chassis.dead_letters list flint.payments.events.v1.dlq.orders
    python -m flint_chassis.dead_letters replay flint.payments.events.v1.dlq.orders [--event-id evt_...]

A replayed message is the original key, value and headers, plus ``flint-replay-of`` naming
the dead letter; the consumer's inbox lets it through once more even though it was seen.
Replaying a whole topic commits the replay group's offsets, so each dead letter is replayed
once. Replaying one event (``--event-id``) commits nothing: every other dead letter stays
there to be replayed later.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from flint_chassis.consumer.dead_letter import HEADER_PREFIX
from flint_chassis.consumer.message import REPLAY_HEADER

REPLAY_GROUP = "flint-dlq-replay"


async def _records(bootstrap: str, topic: str, group_id: str | None, idle_ms: int = 2000) -> AsyncIterator[tuple[AIOKafkaConsumer, ConsumerRecord]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group_id,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        while batch := await consumer.getmany(timeout_ms=idle_ms):
            for records in batch.values():
                for record in records:
                    yield consumer, record
    finally:
        await consumer.stop()


def describe(record: ConsumerRecord) -> dict[str, str]:
    headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
    return {
        "dead_letter": f"{record.topic}:{record.partition}:{record.offset}",
        "event_id": headers.get("flint-event-id") or _event_id(record.value),
        "source": f"{headers.get('flint-dlq-source-topic')}:{headers.get('flint-dlq-source-partition')}:"
                  f"{headers.get('flint-dlq-source-offset')}",
        "code": headers.get("flint-dlq-code", ""),
        "reason": headers.get("flint-dlq-reason", ""),
    }


def _event_id(value: bytes | None) -> str:
    """The id in the body, for a message its producer sent without a flint-event-id header."""
    try:
        found = json.loads(value or b"").get("id")
    except (ValueError, AttributeError):
        return ""
    return found if isinstance(found, str) else ""


async def list_dead_letters(bootstrap: str, topic: str) -> list[dict[str, str]]:
    return [describe(record) async for _, record in _records(bootstrap, topic, None)]


async def replay(bootstrap: str, topic: str, *, event_id: str | None = None, group_id: str = REPLAY_GROUP) -> int:
    """Republish dead letters to their source topics: all those the replay group has not
    replayed yet, or only ``event_id`` (reading the whole topic, committing nothing)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    replayed = 0
    try:
        async for consumer, record in _records(bootstrap, topic, None if event_id else group_id):
            if event_id is not None and describe(record)["event_id"] != event_id:
                continue
            await _republish(producer, record)
            replayed += 1
            if event_id is None:  # exactly this letter: a crash never skips the rest of a batch
                await consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})
    finally:
        await producer.stop()
    return replayed


async def _republish(producer: AIOKafkaProducer, record: ConsumerRecord) -> None:
    headers = [(k, v) for k, v in record.headers or () if not k.startswith(HEADER_PREFIX)]
    headers.append((REPLAY_HEADER, f"{record.topic}:{record.partition}:{record.offset}".encode()))
    source = dict(record.headers or ())["flint-dlq-source-topic"].decode()
    await producer.send_and_wait(source, record.value, key=record.key, headers=headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flint_chassis.dead_letters")
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic, <topic>.dlq.<service>")
    parser.add_argument("--event-id", help="replay only this event")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    args = parser.parse_args(argv)
    if ".dlq." not in args.topic:
        parser.error(f"{args.topic} is not a dead-letter topic (<topic>.dlq.<service>)")
    if args.command == "list":
        for row in asyncio.run(list_dead_letters(args.bootstrap, args.topic)):
            print(json.dumps(row))
    else:
        count = asyncio.run(replay(args.bootstrap, args.topic, event_id=args.event_id))
        print(f"replayed {count} dead letter(s) from {args.topic}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
