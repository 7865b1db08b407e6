"""Operator tools for dead-letter topics: list what is there, and replay it to its source.

    python -m flint_chassis.dead_letters list flint.payments.events.v1.dlq.orders
    python -m flint_chassis.dead_letters replay flint.payments.events.v1.dlq.orders [--event-id evt_...]

A replayed message is the original key, value and headers, plus ``flint-replay-of`` naming
the dead letter; the consumer's inbox lets it through once more even though it was seen.
Replay uses its own consumer group, so each dead letter is replayed once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from flint_chassis.consumer import REPLAY_HEADER

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
        "event_id": headers.get("flint-event-id", ""),
        "source": f"{headers.get('flint-dlq-source-topic')}:{headers.get('flint-dlq-source-partition')}:"
                  f"{headers.get('flint-dlq-source-offset')}",
        "code": headers.get("flint-dlq-code", ""),
        "reason": headers.get("flint-dlq-reason", ""),
    }


async def list_dead_letters(bootstrap: str, topic: str) -> list[dict[str, str]]:
    return [describe(record) async for _, record in _records(bootstrap, topic, None)]


async def replay(bootstrap: str, topic: str, *, event_id: str | None = None, group_id: str = REPLAY_GROUP) -> int:
    """Republish dead letters (optionally only one event) to their source topics."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    replayed = 0
    try:
        async for consumer, record in _records(bootstrap, topic, group_id):
            info = describe(record)
            if event_id is None or info["event_id"] == event_id:
                headers = [(k, v) for k, v in record.headers or () if not k.startswith("flint-dlq-")]
                headers.append((REPLAY_HEADER, info["dead_letter"].encode()))
                source = dict(record.headers or ())[b"flint-dlq-source-topic".decode()].decode()
                await producer.send_and_wait(source, record.value, key=record.key, headers=headers)
                replayed += 1
            await consumer.commit()
    finally:
        await producer.stop()
    return replayed


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
