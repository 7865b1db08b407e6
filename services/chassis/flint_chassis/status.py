"""What ``make status`` cannot see from outside a service: checked against the servers.

    python -m flint_chassis.status --service installs --service orders

prints one JSON object: PostgreSQL (answers? its version), Kafka (answers?), and per service
- ``lag``: messages waiting per consumer group and partition, from the groups' committed
  offsets (``<FLINT_<SERVICE>_GROUP_PREFIX><service>.*``), so it shows even while the
  service is stopped;
- ``outbox``: unpublished rows in ``flint_<service>`` and how long the oldest has waited;
- ``dead_letters``: messages in the service's dead-letter topics (``*.dlq.<service>``) not yet
  replayed (``python -m flint_chassis.dead_letters replay`` commits what it replayed).

Servers come from ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``. Every part answers on
its own within a few seconds: one server down never hides what the other says.
``deploy/stack.py status`` runs this with the project's virtualenv and shows the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from flint_chassis.config import redact_url, with_database
from flint_chassis.dead_letters import REPLAY_GROUP

TIMEOUT = 8.0
_OUTBOX = """
SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
FROM flint_outbox WHERE published_at IS NULL
"""


def _one_line(error: BaseException) -> str:
    """Why, in a few words: "connection refused", "timed out", or the error's first line."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# --- PostgreSQL -----------------------------------------------------------------------------------


async def postgres(server_url: str, services: list[str]) -> dict[str, Any]:
    """The server's version, and each service database's outbox backlog."""
    try:
        conn = await asyncpg.connect(server_url, timeout=5)
    except Exception as error:  # reported, not raised: this is the report
        return {"ok": False, "error": _one_line(error), "server": redact_url(server_url)}
    try:
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    outboxes = {name: await _outbox(server_url, name) for name in services}
    return {"ok": True, "version": version, "outbox": outboxes}


async def _outbox(server_url: str, service: str) -> dict[str, Any] | None:
    try:
        conn = await asyncpg.connect(with_database(server_url, f"flint_{service}"), timeout=5)
    except asyncpg.InvalidCatalogNameError:
        return None  # never started: no database yet
    except Exception as error:
        return {"error": _one_line(error)}
    try:
        row = await conn.fetchrow(_OUTBOX)
    except asyncpg.UndefinedTableError:
        return None
    except Exception as error:
        return {"error": _one_line(error)}
    finally:
        await conn.close()
    return {"backlog": row["backlog"], "oldest_seconds": round(row["oldest"], 1)}


# --- Kafka ------------------------------------------------------------------------------------------


async def kafka(bootstrap: str, services: list[str], prefixes: dict[str, str]) -> dict[str, Any]:
    """Consumer lag per service and group, and dead letters waiting per service."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=5000)
    try:
        await admin.start()
        await consumer.start()
    except Exception as error:
        await _close(admin, consumer)
        return {"ok": False, "error": _one_line(error), "server": bootstrap}
    try:
        groups = [group for group, *_ in await admin.list_consumer_groups()]
        topics = await admin.list_topics()
        report: dict[str, Any] = {"ok": True, "services": {}}
        for service in services:
            own = sorted(g for g in groups if g.startswith(f"{prefixes.get(service, '')}{service}."))
            report["services"][service] = {
                "lag": {group: await _group_lag(admin, consumer, group) for group in own},
                "dead_letters": await _dead_letters(admin, consumer, [t for t in topics if t.endswith(f".dlq.{service}")]),
            }
        return report
    finally:
        await _close(admin, consumer)


async def _group_lag(admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, group: str) -> dict[str, int]:
    committed = {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
                 if meta.offset >= 0}
    if not committed:
        return {}
    ends = await consumer.end_offsets(list(committed))
    return {f"{tp.topic}[{tp.partition}]": max(ends[tp] - offset, 0) for tp, offset in sorted(committed.items())}


async def _dead_letters(admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topics: list[str]) -> dict[str, int]:
    if not topics:
        return {}
    described = await admin.describe_topics(topics)
    partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    if not partitions:
        return {}
    begins, ends = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
    try:
        replayed = {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(REPLAY_GROUP)).items()}
    except Exception:  # noqa: BLE001 - nothing was ever replayed
        replayed = {}
    waiting: dict[str, int] = {}
    for tp in partitions:
        start = max(begins[tp], replayed.get(tp, -1))
        waiting[tp.topic] = waiting.get(tp.topic, 0) + max(ends[tp] - start, 0)
    return {topic: count for topic, count in sorted(waiting.items()) if count}


async def _close(*clients: Any) -> None:
    for client in clients:
        try:
            await client.close() if isinstance(client, AIOKafkaAdminClient) else await client.stop()
        except Exception:  # noqa: BLE001 - closing what may never have started
            pass


# --- the report -------------------------------------------------------------------------------------


async def report(services: list[str]) -> dict[str, Any]:
    prefixes = {name: os.environ.get(f"FLINT_{name.upper()}_GROUP_PREFIX", "") for name in services}
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    server_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/postgres")
    pg, kf = await asyncio.gather(_within(postgres(server_url, services), "PostgreSQL"),
                                  _within(kafka(bootstrap, services, prefixes), "Kafka"))
    return {"postgres": pg, "kafka": kf}


async def _within(check: Any, what: str) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(check, TIMEOUT)
    except asyncio.TimeoutError:
        return {"ok": False, "error": f"{what} did not answer within {TIMEOUT:.0f}s"}
    except Exception as error:  # reported, not raised
        return {"ok": False, "error": f"{what}: {_one_line(error)}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flint_chassis.status", description=__doc__.splitlines()[0])
    parser.add_argument("--service", action="append", default=[], help="a service to report on (repeat)")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(report(args.service))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
