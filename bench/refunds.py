"""Benchmark: refunds per second on one hot order and across many orders, beside a raw
asyncpg loop doing the least a refund must (lock the order's row, insert, commit), then the
over-refund check.

    python -m bench.refunds [--seconds 10] [--clients 16] [--orders 200]

The orders and refunds services run as processes (`--role all`) on fresh databases with a
sandbox ledger of their own. ``--orders`` orders are created over HTTP and captured in full
on the sandbox (`payment.captured` published as checkout would); once the refunds service
knows every capture:

1. hot: ``--clients`` connections each POST a refund of 0.01 after the other, all on ONE
   order (every decision waits for that order's row lock, then runs on the processor);
2. spread: the same, each refund on a random order of the lot;
3. raw: the same clients in a plain asyncpg loop: `SELECT ... FOR UPDATE` of one row (hot)
   or a random row (spread), an INSERT, COMMIT, on the same server;
4. afterwards, from the databases: per order the refunds that succeeded or are pending sum to
   at most what was captured, and the sandbox ledger moved exactly what the succeeded
   refunds say (per order), and no charge is refunded beyond its amount.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import jwt
import uvloop
from aiokafka import AIOKafkaProducer

from bench.app_topic_latency import groups_at_end
from bench.figures import Figure
from bench.footprint import stop_group
from bench.orders_create import NO_RATE_LIMIT, order_body
from bench.orders_get import ROOT, Issuer, free_port, recreate, wait_ready
from flint_chassis.config import with_database
from flint_chassis.topics import ensure_topics
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_chassis.outbox import event_headers
from flint_orders.app import create_runtime as create_orders_runtime
from flint_orders.config import OrdersSettings
from flint_refunds.app import create_runtime as create_refunds_runtime
from flint_refunds.config import RefundsSettings
from flint_payments import SandboxProcessor, SandboxSettings, capture_payment, event_type_of

ORDERS_DB, REFUNDS_DB, SANDBOX_DB = "flint_bench_refunds_orders", "flint_bench_refunds", "flint_bench_refunds_sandbox"

@dataclass
class Services:
    orders_url: str
    refunds_url: str
    token: str
    merchant_id: str
    processes: dict[str, subprocess.Popen]


def _start(name: str, env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", f"flint_{name}", "--role", "all"], cwd=ROOT,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    wait_ready(port, process)
    return process


@contextlib.asynccontextmanager
async def services(env: dict[str, str]) -> AsyncIterator[Services]:
    for name in (ORDERS_DB, REFUNDS_DB, SANDBOX_DB):
        await recreate(env["DATABASE_URL"], name)
    run = uuid.uuid4().hex[:8]
    issuer = Issuer()
    merchant_id = new_id("mer")
    common = {"DATABASE_URL": env["DATABASE_URL"], "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
              "FLINT_LOG_LEVEL": "WARNING", "FLINT_INSTALLS_URL": issuer.url, "FLINT_SANDBOX_DATABASE": SANDBOX_DB,
              **NO_RATE_LIMIT}
    # new consumer groups read only what comes next, not the shared topics' history
    await groups_at_end(env["KAFKA_BOOTSTRAP_SERVERS"], {
        **create_orders_runtime(OrdersSettings(consumer_group_prefix=f"bench-{run}.")).consumer_groups(),
        **create_refunds_runtime(RefundsSettings(consumer_group_prefix=f"bench-{run}.")).consumer_groups()})
    processes: dict[str, subprocess.Popen] = {}
    try:
        ports = {}
        for name, database in (("orders", ORDERS_DB), ("refunds", REFUNDS_DB)):
            ports[name] = free_port()
            upper = name.upper()
            processes[name] = _start(name, {**common, "DATABASE_NAME": database, f"FLINT_{upper}_PORT": str(ports[name]),
                                            f"FLINT_{upper}_SECRET": secrets.token_urlsafe(40),
                                            f"FLINT_{upper}_GROUP_PREFIX": f"bench-{run}."}, ports[name])
        token = _token_for_all(issuer, merchant_id)
        yield Services(f"http://127.0.0.1:{ports['orders']}", f"http://127.0.0.1:{ports['refunds']}", token,
                       merchant_id, processes)
    finally:
        for process in processes.values():
            stop_group(process)
        issuer.close()


def _token_for_all(issuer: Issuer, merchant_id: str) -> str:
    """A merchant token for both services (bench.orders_get's issuer signs for orders only)."""
    now = int(time.time())
    claims = {"iss": issuer.url, "sub": merchant_id, "aud": ["flint:orders", "flint:refunds"],
              "merchant_id": merchant_id, "scope": "orders:write orders:read refunds:write refunds:read",
              "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, issuer.key, algorithm="EdDSA", headers={"kid": issuer.kid})


async def paid_orders(env: dict[str, str], running: Services, count: int) -> list[str]:
    """``count`` orders created over HTTP and captured in full, once refunds knows every capture."""
    headers = {"Authorization": f"Bearer {running.token}", "Content-Type": "application/json"}
    sandbox_settings = SandboxSettings(DATABASE_URL=env["DATABASE_URL"], FLINT_SANDBOX_DATABASE=SANDBOX_DB)
    producer = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], enable_idempotence=True)
    await ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], [PAYMENTS_EVENTS])
    await producer.start()
    gate = asyncio.Semaphore(16)
    try:
        async with httpx.AsyncClient(base_url=running.orders_url, headers=headers, timeout=60) as client, \
                await SandboxProcessor.open(sandbox_settings) as sandbox:
            async def one(number: int) -> str:
                async with gate:
                    response = await client.post("/v1/orders", content=order_body(number))
                    response.raise_for_status()
                    order = response.json()
                    data = await capture_payment(sandbox, order_id=order["id"], amount=Money(
                        amount=order["totals"]["total"]["amount"], currency=order["currency"]))
                    envelope = build_envelope(event_type_of(data), data, source="flint.checkout",
                                              merchant_id=running.merchant_id)
                    await producer.send_and_wait(PAYMENTS_EVENTS, envelope.to_bytes(), key=order["id"].encode(),
                                                 headers=[(k, v.encode()) for k, v in event_headers(envelope)])
                    return order["id"]

            order_ids = await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await producer.stop()
    conn = await asyncpg.connect(with_database(env["DATABASE_URL"], REFUNDS_DB))
    try:
        deadline = time.monotonic() + 120
        while await conn.fetchval(
                "SELECT count(*) FROM order_money o WHERE o.order_id = any($1::text[]) AND EXISTS (SELECT 1 FROM "
                "captures c WHERE c.order_id = o.order_id AND c.processor_reference IS NOT NULL)", order_ids) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the refunds service did not learn every order and capture within 120 s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return list(order_ids)


async def drive_refunds(running: Services, order_ids: list[str], clients: int, seconds: float) -> dict:
    headers = {"Authorization": f"Bearer {running.token}", "Content-Type": "application/json"}
    counts = {"succeeded": 0, "pending": 0, "refused": 0, "errors": 0}
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=running.refunds_url, headers=headers, limits=limits, timeout=60) as client:
        async def worker() -> None:
            while time.monotonic() < stop:
                body = {"order_id": random.choice(order_ids), "amount": {"amount": 1, "currency": "EUR"},
                        "reason": "goodwill"}
                started = time.perf_counter()
                response = await client.post("/v1/refunds", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code == 201:
                    counts[response.json()["status"] if response.json()["status"] != "failed" else "errors"] += 1
                elif response.status_code == 409:
                    counts["refused"] += 1
                else:
                    counts["errors"] += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {**counts, "rate": (counts["succeeded"] + counts["pending"]) / elapsed,
            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")}


async def raw_loop(server_url: str, rows: int, hot: bool, clients: int, seconds: float) -> float:
    """Transactions/s of: lock one row (the hot one, or a random one), insert, commit."""
    database = "flint_bench_refunds_raw"
    await recreate(server_url, database)
    pool = await asyncpg.create_pool(with_database(server_url, database), min_size=clients, max_size=clients)
    try:
        await pool.execute("CREATE TABLE money (id int PRIMARY KEY, refunded bigint NOT NULL DEFAULT 0);"
                           "CREATE TABLE refunds (id text PRIMARY KEY, money_id int NOT NULL, amount bigint NOT NULL, "
                           "doc jsonb NOT NULL)")
        await pool.execute("INSERT INTO money (id) SELECT generate_series(1, $1)", rows)
        done = 0
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            async with pool.acquire() as conn:
                while time.monotonic() < stop:
                    row = 1 if hot else random.randint(1, rows)
                    async with conn.transaction():
                        await conn.fetchval("SELECT refunded FROM money WHERE id = $1 FOR UPDATE", row)
                        await conn.execute("INSERT INTO refunds VALUES ($1, $2, 1, '{}')", uuid.uuid4().hex, row)
                    done += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.perf_counter() - began)
    finally:
        await pool.close()


async def over_refund_check(server_url: str) -> dict:
    """From the databases: orders refunded beyond their captures, and mismatches between the
    refunds the service counts as moved and what the sandbox ledger moved."""
    refunds = await asyncpg.connect(with_database(server_url, REFUNDS_DB))
    sandbox = await asyncpg.connect(with_database(server_url, SANDBOX_DB))
    try:
        over = await refunds.fetchval(
            "SELECT count(*) FROM (SELECT c.order_id, sum(c.amount) AS captured FROM captures c GROUP BY c.order_id) c "
            "JOIN (SELECT order_id, sum((doc->'amount'->>'amount')::bigint) AS held FROM refunds "
            "WHERE status IN ('succeeded', 'pending') GROUP BY order_id) r USING (order_id) WHERE r.held > c.captured")
        service = {r["order_id"]: r["moved"] for r in await refunds.fetch(
            "SELECT order_id, sum((doc->'amount'->>'amount')::bigint) AS moved FROM refunds WHERE status = 'succeeded' "
            "GROUP BY order_id")}
        ledger = {r["order_id"]: r["moved"] for r in await sandbox.fetch(
            "SELECT c.metadata->>'order_id' AS order_id, sum(r.amount) AS moved FROM sandbox_refunds r "
            "JOIN sandbox_charges c ON c.reference = r.charge_reference GROUP BY 1")}
        beyond = await sandbox.fetchval("SELECT count(*) FROM sandbox_charges WHERE amount_refunded > amount")
        pending = await refunds.fetchval("SELECT count(*) FROM refunds WHERE status = 'pending'")
    finally:
        await refunds.close()
        await sandbox.close()
    mismatched = sum(1 for order in service.keys() | ledger.keys() if service.get(order, 0) != ledger.get(order, 0))
    return {"orders_over_refunded": over, "ledger_mismatches": mismatched, "charges_beyond_amount": beyond,
            "still_pending": pending, "refunds_moved": sum(service.values())}


async def measure(env: dict[str, str], clients: int, seconds: float, orders: int) -> dict:
    async with services(env) as running:
        order_ids = await paid_orders(env, running, orders)
        hot = await drive_refunds(running, order_ids[:1], clients, seconds)
        spread = await drive_refunds(running, order_ids, clients, seconds)
        # pending refunds finish in the background: let them settle before checking the ledger
        deadline = time.monotonic() + 60
        check = await over_refund_check(env["DATABASE_URL"])
        while check["still_pending"] and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            check = await over_refund_check(env["DATABASE_URL"])
    raw_hot = await raw_loop(env["DATABASE_URL"], orders, True, clients, seconds)
    raw_spread = await raw_loop(env["DATABASE_URL"], orders, False, clients, seconds)
    return {"hot": hot, "spread": spread, "raw_hot": raw_hot, "raw_spread": raw_spread, "check": check}


def figures(env: dict[str, str], *, seconds: float, clients: int = 16, orders: int = 200) -> list[Figure]:
    measured = uvloop.run(measure(env, clients, seconds, orders))
    check = measured["check"]
    broken = check["orders_over_refunded"] + check["ledger_mismatches"] + check["charges_beyond_amount"]
    return [
        Figure("refunds: refunds/s on one hot order", measured["hot"]["rate"], "/s", measured["raw_hot"],
               "raw lock+insert loop, one row", notes=measured["hot"]),
        Figure("refunds: refunds/s across many orders", measured["spread"]["rate"], "/s", measured["raw_spread"],
               "raw lock+insert loop, random rows", notes=measured["spread"] | {"orders": orders}),
        Figure("refunds: over-refunded orders + ledger mismatches", broken, "", goal=("value", "<=", 0),
               notes=check),
    ]


def main(argv: list[str] | None = None) -> None:
    from bench.figures import table
    from bench.orders_get import stack_env

    parser = argparse.ArgumentParser(prog="python -m bench.refunds", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args(argv)
    print(table(figures(stack_env(), seconds=args.seconds, clients=args.clients, orders=args.orders)))


if __name__ == "__main__":
    main()
