"""Benchmark: webhook delivery beside a raw httpx POST loop, then commit-to-app-topic latency.

    python -m bench.webhooks [--events 2000] [--orders 400] [--concurrency 50] [--rate 50] [--seconds 20]

In one run, on a Kafka and PostgreSQL of its own (bench.servers; or
KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL):

1. throughput: a local receiver (bench.webhook_receiver, its own process) answers 200 to every
   POST. First a raw httpx loop POSTs ``--events`` signed order events to it, one after the
   other, then the same with ``--concurrency`` requests in flight. Then the same events are
   queued as webhook deliveries of one endpoint (``--orders`` orders, so each order's events go
   one at a time, in order) and the installs service's webhook sender (the code its worker
   runs: claim, sign, POST, record every attempt) delivers them with ``--concurrency``
   attempts in flight. Prints each side's events per second and the sender's share of each
   raw loop (target: >= 50 % of the faster raw loop);
2. latency (bench.app_topic_latency): the orders and installs services as processes, one app
   installed by one merchant, ``--rate`` orders created per second for ``--seconds``; for each
   ``order.created``, the time from the order's transaction (the event's ``time``) to the event
   read from the app's topic. Prints p50 and p99 (target: p99 <= 500 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime

import asyncpg
import httpx
import uvloop

from bench.orders_get import ROOT, free_port, recreate, stack_env
from flint_chassis.config import with_database
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_chassis.service_secret import ServiceSecret
from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.order import EXAMPLE_ORDER
from flint_contracts.webhooks import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    new_secret,
    sign,
)
from flint_installs.context import MIGRATIONS
from flint_installs.delivery import repository
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.model import ENABLED, NewDelivery, WebhookEndpoint
from flint_installs.delivery.service import WebhookDelivery

BENCH_DB = "flint_bench_webhooks"
TARGET_SHARE = 0.5


def order_events(count: int, orders: int, merchant_id: str) -> list[EventEnvelope]:
    """``count`` order events (the example order, about 3 KB each) over ``orders`` orders."""
    order_ids = [new_id("ord") for _ in range(orders)]
    found = []
    for n in range(count):
        order_id, version = order_ids[n % orders], n // orders + 1
        order = {**EXAMPLE_ORDER, "id": order_id, "merchant_id": merchant_id, "version": version}
        found.append(EventEnvelope(type="order.note_added" if version > 1 else "order.created", source="flint.orders",
                                   merchant_id=merchant_id, subject=order_id, sequence=version, version=version,
                                   data={"order": order}))
    return found


def start_receiver() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)], cwd=ROOT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/hook"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, content=b"{}").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the receiver did not start within 30 s")


# --- the raw loops ------------------------------------------------------------------------------


async def raw_loop(url: str, bodies: list[tuple[EventEnvelope, bytes]], secret: str, concurrency: int) -> float:
    """POST every body (signed, with the headers Flint sends) with ``concurrency`` in flight;
    returns events per second."""
    queue: asyncio.Queue[tuple[EventEnvelope, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            event, body = queue.get_nowait()
            headers = {SIGNATURE_HEADER: sign(body, [secret]), EVENT_ID_HEADER: event.id,
                       EVENT_TYPE_HEADER: event.type, DELIVERY_ID_HEADER: new_id("dlv"),
                       "Content-Type": "application/json"}
            response = await client.post(url, content=body, headers=headers)
            failures += response.status_code != 200

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"the raw loop got {failures} answers other than 200")
    return len(bodies) / seconds


# --- Flint's sender ------------------------------------------------------------------------------


async def flint_sender(server_url: str, url: str, bodies: list[tuple[EventEnvelope, bytes]],
                       concurrency: int) -> float:
    """Queue every body as a delivery to one endpoint, then let the webhook sender deliver
    them all; returns deliveries per second (from the sender's start to the last recorded)."""
    await recreate(server_url, BENCH_DB)
    pool = await asyncpg.create_pool(with_database(server_url, BENCH_DB), min_size=2, max_size=20)
    sealer = ServiceSecret(new_secret(), service="installs")
    try:
        async with pool.acquire() as conn:
            await migrate(conn, [("chassis", CHASSIS_MIGRATIONS), ("installs", MIGRATIONS)])
            endpoint_id = await _endpoint(conn, sealer, url)
            now = datetime.now(UTC)
            async with conn.transaction():
                for event, body in bodies:
                    await repository.add_delivery(conn, NewDelivery(
                        id=new_id("dlv"), endpoint_id=endpoint_id, event_id=event.id, event_type=event.type,
                        ordering_key=event.subject or event.id, body=body, created_at=now))
        settings = DeliverySettings(allow_loopback=True, concurrency=concurrency)
        delivery = WebhookDelivery(pool, sealer, settings)
        started = time.perf_counter()
        await delivery.start()
        try:
            while await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") < len(bodies):
                await asyncio.sleep(0.02)
            seconds = time.perf_counter() - started
        finally:
            await delivery.stop()
        failed = await pool.fetchval("SELECT count(*) FROM webhook_delivery_attempts WHERE outcome = 'failed'")
        if failed:
            raise RuntimeError(f"{failed} attempts failed")
        return len(bodies) / seconds
    finally:
        await pool.close()


async def _endpoint(conn: asyncpg.Connection, sealer: ServiceSecret, url: str) -> str:
    """A merchant, an app, its install and one enabled endpoint with a secret."""
    now = datetime.now(UTC)
    merchant, app, install = new_id("mer"), new_id("app"), new_id("ins")
    await conn.execute("INSERT INTO merchants (id, name, secret_key_hash, secret_key_hint, created_at) "
                       "VALUES ($1, 'Bench', $2, 'abcd', $3)", merchant, b"x" * 32, now)
    await conn.execute("INSERT INTO apps (id, name, client_secret_hash, redirect_uris, scopes, created_at) "
                       "VALUES ($1, 'Bench', $2, '{}', '{orders:read}', $3)", app, b"y" * 32, now)
    await conn.execute("INSERT INTO installs (id, merchant_id, app_id, scopes, status, version, created_at, "
                       "updated_at) VALUES ($1, $2, $3, '{orders:read}', 'active', 1, $4, $4)",
                       install, merchant, app, now)
    endpoint = WebhookEndpoint(id=new_id("whe"), install_id=install, url=url, status=ENABLED, created_at=now,
                               updated_at=now)
    await repository.add_endpoint(conn, endpoint)
    await repository.add_secret(conn, sealer, endpoint.id, new_secret(), now=now)
    return endpoint.id


# --- the run -------------------------------------------------------------------------------------


async def throughput(env: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    events = order_events(args.events, args.orders, new_id("mer"))
    bodies = [(event, event.to_bytes()) for event in events]
    receiver, url = start_receiver()
    try:
        print(f"raw httpx loop: {args.events} events, one at a time ...", flush=True)
        sequential = await raw_loop(url, bodies, new_secret(), 1)
        print(f"raw httpx loop: {args.events} events, {args.concurrency} in flight ...", flush=True)
        concurrent = await raw_loop(url, bodies, new_secret(), args.concurrency)
        print(f"Flint's webhook sender: {args.events} deliveries of {args.orders} orders, "
              f"{args.concurrency} in flight ...", flush=True)
        sender = await flint_sender(env["DATABASE_URL"], url, bodies, args.concurrency)
    finally:
        receiver.terminate()
        receiver.wait(10)
    return {"raw_sequential": sequential, "raw_concurrent": concurrent, "sender": sender}


def report_throughput(figures: dict[str, float], concurrency: int) -> bool:
    share_sequential = figures["sender"] / figures["raw_sequential"]
    share_concurrent = figures["sender"] / figures["raw_concurrent"]
    print()
    print(f"{'':<48}{'events/s':>10}")
    print(f"{'raw httpx POST loop, one at a time':<48}{figures['raw_sequential']:>10.0f}")
    print(f"{f'raw httpx POST loop, {concurrency} in flight':<48}{figures['raw_concurrent']:>10.0f}")
    print(f"{'Flint webhook sender (claim, sign, POST, record)':<48}{figures['sender']:>10.0f}")
    print(f"sender: {share_sequential:.0%} of the raw loop one at a time, {share_concurrent:.0%} of the raw loop "
          f"with {concurrency} in flight (target >= {TARGET_SHARE:.0%} of the faster of the two)")
    return min(share_sequential, share_concurrent) >= TARGET_SHARE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events delivered by each side (default 2000)")
    parser.add_argument("--orders", type=int, default=400, help="orders they belong to (default 400)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--rate", type=float, default=50.0, help="orders created per second (default 50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds of the latency run")
    parser.add_argument("--skip-latency", action="store_true", help="measure throughput only")
    args = parser.parse_args(argv)
    env = stack_env()
    met = report_throughput(uvloop.run(throughput(env, args)), args.concurrency)
    if not args.skip_latency:
        from bench import app_topic_latency

        met &= app_topic_latency.run(env, rate=args.rate, seconds=args.seconds)
    print("targets met" if met else "targets NOT met")


if __name__ == "__main__":
    main()
