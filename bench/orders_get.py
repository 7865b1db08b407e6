"""Benchmark: GET /v1/orders/{id} with a real token, side by side with `pgbench -S`.

    python -m bench.orders_get [--seconds 10] [--clients 64] [--workers 2] [--orders 10000]

In one run, on a PostgreSQL of its own (bench.servers; or DATABASE_URL):
1. seeds a fresh database with orders of one merchant (through the domain and repository);
2. serves a JWKS on 127.0.0.1 and signs an app token the way the installs service does
   (docs/auth.md), with an active install in the service's install projection;
3. starts the orders API as a real process (`python -m flint_orders --role api`, uvicorn,
   uvloop, httptools) and drives it with 64 keep-alive clients for the given time
   (bench/loadgen.py, its own process, 127.0.0.1 only);
4. runs `pgbench -S -c 64 -j 2 -T <same time>` on its own database on the same server;
5. prints requests/s, p50 and p99 of both, and the API's share of pgbench's rate.
Target: at least 10 % of pgbench -S with p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from flint_chassis.config import with_database
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_orders import repository
from flint_orders.app import MIGRATIONS
from flint_orders.domain import Customer, NewLine, Order

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "flint_bench_orders"
PGBENCH_DB = "flint_bench_pgbench"
PGBENCH = os.environ.get("PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")


# --- the stack ------------------------------------------------------------------------------------


def stack_env() -> dict[str, str]:
    """The servers to measure on when a benchmark runs on its own (bench.servers)."""
    from bench.servers import for_this_process

    return for_this_process()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the issuer -------------------------------------------------------------------------------------


class Issuer:
    """Signs tokens as docs/auth.md says and serves the key set at /.well-known/jwks.json."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = f"bench-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        jwk = {**json.loads(OKPAlgorithm.to_jwk(self.key.public_key())), "kid": self.kid, "use": "sig", "alg": "EdDSA"}
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200 if self.path == "/.well-known/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, merchant_id: str, install_id: str, app_id: str, scopes: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": install_id, "aud": ["flint:orders"], "merchant_id": merchant_id,
                  "app_id": app_id, "install_id": install_id, "scope": scopes, "iat": now, "exp": now + 3600,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def merchant_token(self, merchant_id: str, scopes: str) -> str:
        """A merchant's own backend token (client_credentials: no install, no app)."""
        now = int(time.time())
        claims = {"iss": self.url, "sub": merchant_id, "aud": ["flint:orders"], "merchant_id": merchant_id,
                  "scope": scopes, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def close(self) -> None:
        self.server.shutdown()


# --- seeding ----------------------------------------------------------------------------------------


async def recreate(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def seed(server_url: str, count: int, install: tuple[str, str, str]) -> list[str]:
    """``count`` orders of one merchant (1 to 3 lines, some paid), and an active install."""
    merchant_id, install_id, app_id = install
    await recreate(server_url, BENCH_DB)
    conn = await asyncpg.connect(with_database(server_url, BENCH_DB))
    ids = []
    try:
        await migrate(conn, [("chassis", CHASSIS_MIGRATIONS), ("orders", MIGRATIONS)])
        async with conn.transaction():
            start = datetime.now(UTC) - timedelta(days=30)
            for number in range(1001, 1001 + count):
                order = Order.create(
                    merchant_id=merchant_id, number=number, currency="EUR",
                    customer=Customer(email=f"buyer{number}@example.com", name=f"Buyer {number}"),
                    lines=[NewLine(title=f"Item {i}", sku=f"SKU-{i}", quantity=1 + i,
                                   unit_price=Money(amount=1000 + 10 * i, currency="EUR"),
                                   tax=Money(amount=190, currency="EUR")) for i in range(1 + number % 3)],
                    shipping=Money(amount=500, currency="EUR"),
                    at=start + timedelta(seconds=number),
                )
                if number % 2:
                    order.record_payment_captured(new_id("pay"), order.totals.total, at=order.created_at)
                await repository.add(conn, order, timeline=repository.NewEntries(order.new_entries, {}, None))
                order.pull_new_entries()
                ids.append(order.id)
            await conn.execute(
                "INSERT INTO flint_install_state (install_id, app_id, merchant_id, scopes, status, updated_at) "
                "VALUES ($1, $2, $3, $4, 'active', now())", install_id, app_id, merchant_id, ["orders:read"])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return ids


# --- the two measurements -------------------------------------------------------------------------------


def run_api(env: dict[str, str], issuer: Issuer, token: str, order_ids: list[str], args: argparse.Namespace,
            loads: dict[str, list[str]] | None = None) -> dict:
    """Starts the orders API and drives each load (name -> paths) in turn; returns each
    load's figures (``GET /v1/orders/{id}`` alone unless ``loads`` names others)."""
    port = free_port()
    server_env = {
        **os.environ, **env, "DATABASE_NAME": BENCH_DB, "FLINT_INSTALLS_URL": issuer.url,
        "FLINT_ORDERS_PORT": str(port), "FLINT_ORDERS_ROLE": "api", "FLINT_ORDERS_WORKERS": str(args.workers),
        "DB_POOL_MIN": str(args.pool), "DB_POOL_MAX": str(args.pool), "FLINT_LOG_LEVEL": "WARNING",
        "FLINT_ORDERS_SECRET": secrets.token_urlsafe(40),
        # One token drives the whole load: lift its rate limit (the check itself still runs).
        "RATE_LIMIT_READ_PER_SECOND": "1000000", "RATE_LIMIT_READ_BURST": "1000000",
    }
    server = subprocess.Popen([sys.executable, "-m", "flint_orders"], env=server_env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if loads is None:
        loads = {"one": [f"/v1/orders/{order_id}" for order_id in random.sample(order_ids, min(len(order_ids), 512))]}
    try:
        wait_ready(port, server)
        one = next(iter(loads.values()))[0]
        check = urllib.request.Request(f"http://127.0.0.1:{port}{one}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(check, timeout=5) as response:
            assert response.status == 200, f"{one} answered {response.status}"
        return {name: _drive(port, server.pid, token, paths, args) for name, paths in loads.items()}
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)


def _drive(port: int, server_pid: int, token: str, paths: list[str], args: argparse.Namespace) -> dict:
    command = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--token", token,
               "--clients", str(args.clients), "--seconds", str(args.seconds), "--warmup", "2"]
    for path in paths:
        command += ["--path", path]
    cpu_before = process_group_cpu(server_pid)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=args.seconds + 60)
    cpu = process_group_cpu(server_pid) - cpu_before
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed: {result.stderr.strip()[-2000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    # The server's CPU over warm-up and measurement, per request answered in that time.
    total_requests = measured["rps"] * (measured["seconds"] + 2)
    return {**measured, "server_cpu_us_per_request": cpu / max(total_requests, 1) * 1e6}


def process_group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by every process of the group (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stderr.read().decode()[-2000:] if server.stderr else "(see its log)"
            raise RuntimeError(f"the service exited: {output}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("orders API did not become ready within 60 s")


def run_pgbench(env: dict[str, str], args: argparse.Namespace) -> dict:
    server_url = env["DATABASE_URL"]
    asyncio.run(recreate(server_url, PGBENCH_DB))
    parts = urlsplit(server_url)
    pg_env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
              "PGUSER": parts.username or "postgres", "PGPASSWORD": parts.password or "", "PGDATABASE": PGBENCH_DB}
    subprocess.run([PGBENCH, "-i", "-q", "-s", str(args.scale)], env=pg_env, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as logs:
        result = subprocess.run(
            [PGBENCH, "-S", "-n", "-c", str(args.clients), "-j", "2", "-T", str(int(args.seconds)),
             "-l", "--log-prefix", f"{logs}/pgbench"],
            env=pg_env, capture_output=True, text=True, check=True, timeout=args.seconds + 120,
        )
        latencies = []
        for path in glob.glob(f"{logs}/pgbench*"):
            with open(path) as log:
                latencies += [int(line.split()[2]) for line in log if line.strip()]
    latencies.sort()
    tps = float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))
    return {"requests": len(latencies), "rps": tps,
            "p50_ms": latencies[len(latencies) // 2] / 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] / 1000}


# --- main -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_get", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time of each side (default 10)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--pool", type=int, default=16, help="database connections per worker (default 16)")
    parser.add_argument("--orders", type=int, default=10_000, help="orders seeded (default 10000)")
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale factor (default 10)")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 300:
        parser.error("--seconds must be between 1 and 300")

    env = stack_env()
    install = (new_id("mer"), new_id("ins"), new_id("app"))
    print(f"seeding {args.orders} orders ...", flush=True)
    order_ids = asyncio.run(seed(env["DATABASE_URL"], args.orders, install))
    issuer = Issuer()
    try:
        token = issuer.token(*install, scopes="orders:read")
        print(f"GET /v1/orders/{{id}}: {args.clients} clients, {args.seconds:g} s, {args.workers} workers ...", flush=True)
        api = run_api(env, issuer, token, order_ids, args)["one"]
    finally:
        issuer.close()
    print(f"pgbench -S -c {args.clients} -j 2 -T {int(args.seconds)} (scale {args.scale}) ...", flush=True)
    pg = run_pgbench(env, args)

    ratio = api["rps"] / pg["rps"]
    print()
    print(f"{'':<26}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'GET /v1/orders/{id}':<26}{api['rps']:>12.0f}{api['p50_ms']:>10.2f}{api['p99_ms']:>10.2f}")
    print(f"{'pgbench -S':<26}{pg['rps']:>12.0f}{pg['p50_ms']:>10.2f}{pg['p99_ms']:>10.2f}")
    print(f"ratio: {ratio:.1%} of pgbench -S (target >= 10 %), p99 {api['p99_ms']:.1f} ms (target <= 50 ms); "
          f"{api['errors']} non-200 answers; API server CPU {api['server_cpu_us_per_request']:.0f} us per request")
    ok = ratio >= 0.10 and api["p99_ms"] <= 50 and api["errors"] == 0
    print("target met" if ok else "target NOT met")


def figures(env: dict[str, str], *, seconds: float, orders: int) -> list:
    """The read rows of `make bench`: one order and a page of 50, 64 clients, beside pgbench -S."""
    from bench.figures import Figure

    args = argparse.Namespace(seconds=seconds, clients=64, workers=2, pool=16, orders=orders, scale=10)
    install = (new_id("mer"), new_id("ins"), new_id("app"))
    order_ids = asyncio.run(seed(env["DATABASE_URL"], args.orders, install))
    issuer = Issuer()
    try:
        token = issuer.token(*install, scopes="orders:read")
        one = [f"/v1/orders/{order_id}" for order_id in random.sample(order_ids, min(len(order_ids), 512))]
        api = run_api(env, issuer, token, order_ids, args, {"one": one, "list": ["/v1/orders?limit=50"]})
    finally:
        issuer.close()
    pg = run_pgbench(env, args)
    rows = []
    for name, label in (("one", "GET /v1/orders/{id}"), ("list", "GET /v1/orders?limit=50")):
        figures = api[name]
        notes = {"errors": figures["errors"], "server_cpu_us_per_request": figures["server_cpu_us_per_request"]}
        rows += [
            Figure(f"read: {label}", figures["rps"], "req/s", pg["rps"], "pgbench -S",
                   ("ratio", ">=", 0.10) if name == "one" else None, notes=notes),
            Figure(f"read: {label} p99", figures["p99_ms"], "ms", pg["p99_ms"], "pgbench -S",
                   ("value", "<=", 50.0) if name == "one" else None),
        ]
    return rows


if __name__ == "__main__":
    main()
