"""Measurement: from an order's commit to its event on the app's topic, at a steady load.

    python -m bench.app_topic_latency [--rate 50] [--seconds 20]

The orders and installs services run as processes (`--role all`, as `make up` runs them) on
fresh databases of the local stack; their consumer groups start at the current end of the
topics. One app is installed by one merchant (the install row is written straight into the
installs database: the consent pages are not what is measured). Orders are created at
``--rate`` per second; each ``order.created`` goes orders' outbox -> flint.orders.events.v1 ->
installs' router -> installs' outbox -> flint.app.<app_id>.v1, and is timed from its ``time``
(set in the order's transaction, just before its commit) to the moment a consumer of the
app's topic reads it. Prints p50 and p99 (target: p99 <= 500 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.orders_get import ROOT, Issuer, free_port, recreate, wait_ready
from flint_chassis.config import with_database
from flint_chassis.topics import ensure_topics
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_EVENTS, app_topic
from flint_installs.delivery import router
from flint_orders.app import create_runtime
from flint_orders.config import OrdersSettings

INSTALLS_DB, ORDERS_DB = "flint_bench_latency_installs", "flint_bench_latency_orders"
TARGET_P99_MS = 500.0
ORDER = orjson.dumps({
    "customer": {"email": "ada@example.com", "name": "Ada"}, "currency": "EUR",
    "line_items": [{"title": "Mug", "sku": "MUG-1", "quantity": 2, "unit_price": {"amount": 1000, "currency": "EUR"},
                    "tax": {"amount": 380, "currency": "EUR"}}],
    "shipping": {"amount": 500, "currency": "EUR"},
})


async def groups_at_end(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> None:
    """Commit each new consumer group at the end of its topics: it reads only what comes next."""
    await ensure_topics(bootstrap, sorted({t for topics in groups.values() for t in topics}))
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t in topics for p in await _partitions(consumer, t)]
            consumer.assign(partitions)
            await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(100):
        if found := consumer.partitions_for_topic(topic):
            return found
        await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client knows no topics yet
    raise RuntimeError(f"topic {topic} has no partitions")


def start(module: str, env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", module, "--role", "all"], cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_ready(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


async def install_app(server_url: str, installs_url: str, admin_key: str, merchants: int = 1) -> tuple[list[str], str]:
    """``merchants`` merchants and one app through the admin API, the app installed by each
    (the install rows written directly): the merchants' ids and the app's."""
    async with httpx.AsyncClient(base_url=installs_url, headers={"Authorization": f"Bearer {admin_key}"}) as client:
        merchant_ids = [(await client.post("/v1/merchants", json={"name": f"Bench {i}"})).raise_for_status().json()["id"]
                        for i in range(merchants)]
        app = (await client.post("/v1/apps", json={"name": "Bench", "redirect_uris": ["https://bench.example/cb"],
                                                   "scopes": ["orders:read"]})).raise_for_status().json()
    conn = await asyncpg.connect(with_database(server_url, INSTALLS_DB))
    try:
        await conn.executemany("INSERT INTO installs (id, merchant_id, app_id, scopes, status, version, created_at, "
                               "updated_at) VALUES ($1, $2, $3, '{orders:read}', 'active', 1, $4, $4)",
                               [(new_id("ins"), merchant_id, app["id"], datetime.now(UTC)) for merchant_id in merchant_ids])
    finally:
        await conn.close()
    return merchant_ids, app["id"]


async def measure(bootstrap: str, orders_url: str, token: str, topic: str, rate: float, seconds: float,
                  warmup: float) -> tuple[list[float], int]:
    """Create orders at ``rate`` per second; latencies (ms) of those created after the warmup."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(t, p) for t in (topic, ORDERS_EVENTS) for p in await _partitions(consumer, t)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    latencies: list[float] = []
    on_orders_topic: dict[str, float] = {}  # event id -> when it was on flint.orders.events.v1 (ms after commit)
    routing: list[float] = []  # ms from the orders topic to the app topic
    measured_from = time.time() + warmup
    created = 0

    async def read() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for record in records:
                    at = time.time()
                    if record.topic == ORDERS_EVENTS and b'"order.created"' not in record.value:
                        continue
                    event = orjson.loads(record.value)
                    committed = datetime.fromisoformat(event["time"]).timestamp()
                    if event["type"] != "order.created" or committed < measured_from:
                        continue
                    if record.topic == ORDERS_EVENTS:
                        on_orders_topic[event["id"]] = at
                    else:
                        latencies.append((at - committed) * 1000)
                        if event["id"] in on_orders_topic:
                            routing.append((at - on_orders_topic[event["id"]]) * 1000)

    reader = asyncio.create_task(read())
    async with httpx.AsyncClient(base_url=orders_url, timeout=60, headers={
            "Authorization": f"Bearer {token}", "content-type": "application/json"}) as client:
        async def create() -> None:
            nonlocal created
            response = await client.post("/v1/orders", content=ORDER)
            response.raise_for_status()
            # Counted as the events are: by the time the order's transaction gave its event.
            if datetime.fromisoformat(response.json()["created_at"]).timestamp() >= measured_from:
                created += 1

        started, tasks = time.monotonic(), []
        for n in range(int(rate * (warmup + seconds))):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(create()))
        await asyncio.gather(*tasks)
    deadline = time.monotonic() + 10
    while len(latencies) < created and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await consumer.stop()
    print(f"  of which flint.orders.events.v1 -> app topic (installs' router and relay): "
          f"p50 {percentile(routing, 0.5):.0f} ms, p99 {percentile(routing, 0.99):.0f} ms")
    return latencies, created


@dataclass
class Pipeline:
    """The orders and installs services running, one app installed by each merchant;
    ``tokens``: a merchant token of each."""

    bootstrap: str
    orders_url: str
    orders_port: int
    tokens: list[str]
    topic: str
    processes: dict[str, subprocess.Popen]

    @property
    def token(self) -> str:
        """The first merchant's token."""
        return self.tokens[0]


@contextlib.asynccontextmanager
async def pipeline(env: dict[str, str], orders_env: dict[str, str] | None = None,
                   merchants: int = 1) -> AsyncIterator[Pipeline]:
    """Fresh databases, consumer groups at the end of their topics, the two services as
    processes (``--role all``), and the app's topic; everything stopped afterwards."""
    server_url, bootstrap = env["DATABASE_URL"], env["KAFKA_BOOTSTRAP_SERVERS"]
    for name in (INSTALLS_DB, ORDERS_DB):
        await recreate(server_url, name)
    run = uuid.uuid4().hex[:8]
    issuer = Issuer()
    installs_port, orders_port = free_port(), free_port()
    installs_url, admin_key = f"http://127.0.0.1:{installs_port}", secrets.token_urlsafe(24)
    orders_settings = OrdersSettings(consumer_group_prefix=f"bench-{run}.")
    routers = {f"bench-{run}.installs.{s.name}": s.topics for s in router.subscriptions()}
    await groups_at_end(bootstrap, {**routers, **create_runtime(orders_settings).consumer_groups()})
    common = {"DATABASE_URL": server_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "FLINT_LOG_LEVEL": "WARNING"}
    installs = start("flint_installs", {
        **common, "DATABASE_NAME": INSTALLS_DB, "FLINT_INSTALLS_PORT": str(installs_port), "FLINT_INSTALLS_URL": installs_url,
        "FLINT_INSTALLS_SECRET": secrets.token_urlsafe(40), "FLINT_ADMIN_KEY": admin_key,
        "FLINT_INSTALLS_GROUP_PREFIX": f"bench-{run}.",
        "FLINT_KAFKA_PLUGIN_BOOTSTRAP": env.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP", "127.0.0.1:19094"),
    }, installs_port)
    try:
        orders = start("flint_orders", {
            **common, "DATABASE_NAME": ORDERS_DB, "FLINT_ORDERS_PORT": str(orders_port), "FLINT_INSTALLS_URL": issuer.url,
            "FLINT_ORDERS_SECRET": secrets.token_urlsafe(40), "FLINT_ORDERS_GROUP_PREFIX": f"bench-{run}.",
            **(orders_env or {}),
        }, orders_port)
        try:
            merchant_ids, app_id = await install_app(server_url, installs_url, admin_key, merchants)
            await ensure_topics(bootstrap, [app_topic(app_id)])
            tokens = [issuer.merchant_token(merchant_id, "orders:write orders:read") for merchant_id in merchant_ids]
            yield Pipeline(bootstrap, f"http://127.0.0.1:{orders_port}", orders_port, tokens, app_topic(app_id),
                           {"orders": orders, "installs": installs})
        finally:
            stop(orders)
    finally:
        stop(installs)
        issuer.close()


async def bench(env: dict[str, str], rate: float, seconds: float, warmup: float) -> tuple[list[float], int]:
    async with pipeline(env) as running:
        return await measure(running.bootstrap, running.orders_url, running.token, running.topic, rate,
                             seconds, warmup)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run(env: dict[str, str], *, rate: float, seconds: float, warmup: float = 5.0) -> bool:
    print(f"commit -> app topic: {rate:g} orders/s for {seconds:g} s (after {warmup:g} s of warm-up) ...", flush=True)
    latencies, created = uvloop.run(bench(env, rate, seconds, warmup))
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"order.created on the app's topic: {len(latencies)} of {created} orders; p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
          f"max {max(latencies, default=float('nan')):.0f} ms (target p99 <= {TARGET_P99_MS:.0f} ms)")
    return len(latencies) >= created > 0 and p99 <= TARGET_P99_MS


def main(argv: list[str] | None = None) -> None:
    from bench.orders_get import stack_env

    parser = argparse.ArgumentParser(prog="python -m bench.app_topic_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="orders created per second (default 50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds (default 20)")
    args = parser.parse_args(argv)
    print("target met" if run(stack_env(), rate=args.rate, seconds=args.seconds) else "target NOT met")


if __name__ == "__main__":
    main()
