"""Measurement: how soon the broker enforces an app's Kafka access changes.

    python -m bench.kafka_access [--trials 5]

On a Kafka of its own (bench.servers; or KAFKA_BOOTSTRAP_SERVERS with
FLINT_KAFKA_PLUGIN_BOOTSTRAP), for fresh apps (flint_chassis.kafka_access), each trial times:
1. grant: `grant_read` (credential made before), then the first read of the app's topic;
2. revoke: from calling `revoke_all` to the refusal of a fetch on a consumer that was already
   reading (an uninstall); a fetch already waiting at the broker when the ACLs go (a long
   poll, `fetch_max_wait_ms`, 500 ms by default) is answered first;
3. rotate: `rotate_credential`, then whether a login with the old password is refused at once;
4. old session: from rotation to the broker closing a connection logged in with the old
   password (bounded by the listener's `connections.max.reauth.ms`).
Prints p50 and max of each, in milliseconds. Apps, ACLs and topics are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAuthorizationFailedError
from aiokafka.protocol.metadata import MetadataRequest

from flint_chassis.kafka_access import AppCredential, KafkaAccess
from flint_contracts.ids import new_id
from flint_contracts.topics import app_topic

ROOT = Path(__file__).resolve().parents[1]


def stack_env() -> tuple[str, str]:
    from bench.servers import for_this_process

    env = for_this_process()
    if not env.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
        sys.exit("bench: no Kafka plugin listener known: with KAFKA_BOOTSTRAP_SERVERS set, set FLINT_KAFKA_PLUGIN_BOOTSTRAP too")
    return env["KAFKA_BOOTSTRAP_SERVERS"], env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"]


def sasl(credential: AppCredential) -> dict:
    return {"bootstrap_servers": credential.bootstrap_servers, "security_protocol": credential.security_protocol,
            "sasl_mechanism": credential.mechanism, "sasl_plain_username": credential.username,
            "sasl_plain_password": credential.password, "request_timeout_ms": 5000}


def ms(since: float) -> float:
    return (time.monotonic() - since) * 1000


async def first_read(credential: AppCredential, internal: str) -> AIOKafkaConsumer:
    producer = AIOKafkaProducer(bootstrap_servers=internal)
    await producer.start()
    await producer.send_and_wait(credential.topic, b"event")
    await producer.stop()
    consumer = AIOKafkaConsumer(credential.topic, group_id=f"{credential.group_prefix}.bench",
                                auto_offset_reset="earliest", **sasl(credential))
    await consumer.start()
    while not any((await consumer.getmany(timeout_ms=200)).values()):
        pass
    return consumer


async def trial(access: KafkaAccess, internal: str, figures: dict[str, list[float]], made: list[str]) -> None:
    app_id = new_id("app")
    made.append(app_id)
    credential = await access.create_credential(app_id)
    started = time.monotonic()
    await access.grant_read(app_id)
    figures["grant_read call"].append(ms(started))
    consumer = await first_read(credential, internal)
    figures["grant to first read"].append(ms(started))

    started = time.monotonic()
    await access.revoke_all(app_id)
    figures["revoke_all call"].append(ms(started))
    try:
        while True:
            await consumer.getmany(timeout_ms=20)
    except TopicAuthorizationFailedError:
        figures["revoke to refused fetch (open consumer)"].append(ms(started))
    finally:
        await consumer.stop()

    session = AIOKafkaClient(**sasl(credential))
    await session.bootstrap()
    node = next(iter(session.cluster.brokers())).nodeId
    await session.send(node, MetadataRequest([credential.topic]))  # logged in with the password to be rotated
    started = time.monotonic()
    await access.rotate_credential(app_id)
    figures["rotate_credential call"].append(ms(started))
    refused = AIOKafkaConsumer(**sasl(credential))
    try:
        await refused.start()
        figures["old password refused at once (1 = yes)"].append(0)
    except KafkaConnectionError:
        figures["old password refused at once (1 = yes)"].append(1)
    finally:
        await refused.stop()
    try:
        while True:
            await session.send(node, MetadataRequest([credential.topic]))
            await asyncio.sleep(0.05)
    except KafkaError:
        figures["rotate to old session closed"].append(ms(started))
    finally:
        await session.close()


async def main(trials: int) -> None:
    internal, plugin = stack_env()
    access = KafkaAccess(internal, plugin)
    figures: dict[str, list[float]] = {}
    for name in ("grant_read call", "grant to first read", "revoke_all call", "revoke to refused fetch (open consumer)",
                 "rotate_credential call", "old password refused at once (1 = yes)", "rotate to old session closed"):
        figures[name] = []
    made: list[str] = []
    try:
        for number in range(trials):
            await trial(access, internal, figures, made)
            print(f"trial {number + 1}/{trials} done", file=sys.stderr)
    finally:
        await cleanup(access, internal, made)
    print(f"{'measure':<42} {'p50 ms':>10} {'max ms':>10}")
    for name, values in figures.items():
        print(f"{name:<42} {statistics.median(values):>10.1f} {max(values):>10.1f}")


async def cleanup(access: KafkaAccess, internal: str, made: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=internal)
    await admin.start()
    try:
        for app_id in made:
            await access.revoke_all(app_id)
            await access.delete_credential(app_id)
        existing = set(await admin.list_topics())
        topics = [app_topic(a) for a in made if app_topic(a) in existing]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    asyncio.run(main(parser.parse_args().trials))
