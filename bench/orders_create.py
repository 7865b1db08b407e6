"""Benchmark: POST /v1/orders until `order.created` is on Kafka, beside a raw aiokafka loop.

    python -m bench.orders_create [--seconds 10] [--clients 16] [--merchants 1] [--workers 1]

In one run, on a Kafka and PostgreSQL of its own (bench.servers; or
KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL):
1. serves a JWKS on 127.0.0.1 and signs one merchant token per merchant (docs/auth.md);
2. starts the orders service as a real process (`python -m flint_orders --role all`: the API
   and the outbox relay, as `make up` runs it) on a fresh database;
3. drives `POST /v1/orders` from N keep-alive clients (127.0.0.1 only), each sending the next
   create when the last one answered, and watches `flint.orders.events.v1` for the
   `order.created` of each (matched by the correlation id the request carried);
4. in the same run, on the same broker, N producers each send a message with an idempotent
   aiokafka producer (acks=all, as the outbox relay does) and wait for its ack, while a
   consumer reads them back: the raw produce -> consume loop;
5. prints throughput, end-to-end p50/p99 (request sent -> event consumed; message sent ->
   message consumed), the orders process's CPU per create, and creates/s as a share of the
   raw loop's messages/s. Targets: >= 10 % of the raw loop, <= 1.5 ms of CPU per create.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from dataclasses import dataclass, field

import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.app_topic_latency import groups_at_end
from bench.figures import Figure
from bench.orders_get import ROOT, Issuer, free_port, process_group_cpu, recreate, stack_env, wait_ready
from flint_contracts.event_types import ORDER_CREATED
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders.app import create_runtime
from flint_orders.config import OrdersSettings

BENCH_DB = "flint_bench_orders_create"
# The benches measure the services, not the per-token rate limits (16 clients may share one token)
NO_RATE_LIMIT = {"RATE_LIMIT_WRITE_PER_SECOND": "1000000", "RATE_LIMIT_WRITE_BURST": "1000000",
                 "RATE_LIMIT_READ_PER_SECOND": "1000000", "RATE_LIMIT_READ_BURST": "1000000"}
HOST = "127.0.0.1"  # never anything else
RAW_PARTITIONS = 3  # as many as the orders events topic (ServiceSettings.topic_partitions)
TARGET_SHARE = 0.10  # of the raw loop's messages/s
TARGET_CPU_MS = 1.5  # of the orders process per create


# --- measurements ---------------------------------------------------------------------------------------


@dataclass
class Window:
    """What happened while recording: acknowledged sends, and end-to-end latencies."""

    recording: bool = False
    acked: int = 0
    errors: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    sent_at: dict[str, int] = field(default_factory=dict)

    def sent(self, key: str) -> None:
        self.sent_at[key] = time.perf_counter_ns()

    def acknowledged(self, ok: bool) -> None:
        if self.recording:
            if ok:
                self.acked += 1
            else:
                self.errors += 1

    def consumed(self, key: str) -> None:
        started = self.sent_at.pop(key, None)
        if started is not None and self.recording:
            self.latencies_ns.append(time.perf_counter_ns() - started)

    def summary(self, seconds: float) -> dict:
        latencies = sorted(self.latencies_ns)
        return {"rate": self.acked / seconds, "acked": self.acked, "errors": self.errors,
                "consumed": len(latencies), "p50_ms": percentile(latencies, 0.50),
                "p99_ms": percentile(latencies, 0.99)}


def machine_cpu() -> dict[str, float]:
    """CPU seconds used so far on this machine: all of it, and per process of PostgreSQL,
    Kafka (java) and this benchmark (Linux /proc), to see where a create's cost lands."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    used = {"all": (sum(fields) - fields[3] - fields[4]) / ticks}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = path.read_text().rsplit(")", 1)
        except OSError:
            continue
        command, values = head.split("(", 1)[1], tail.split()
        name = "bench" if int(path.parent.name) == os.getpid() else {"postgres": "postgres", "java": "kafka"}.get(command)
        if name:
            used[f"{name}:{path.parent.name}"] = (int(values[11]) + int(values[12])) / ticks
    return used


def cores_busy(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores each kind of process kept busy between two samples (processes in both)."""
    busy: dict[str, float] = {}
    for key in after.keys() & before.keys():
        name = key.split(":", 1)[0]
        busy[name] = busy.get(name, 0.0) + (after[key] - before[key]) / seconds
    return dict(sorted(busy.items()))


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] / 1e6


async def measure(window: Window, warmup: float, seconds: float, on_start=None) -> float:
    """Lets the load warm up, then records for ``seconds``; returns the time recorded."""
    await asyncio.sleep(warmup)
    if on_start:
        on_start()
    window.recording = True
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    window.recording = False
    return time.perf_counter() - began


# --- HTTP creates ------------------------------------------------------------------------------------------


def order_body(number: int) -> bytes:
    lines = [{"sku": f"SKU-{i}", "title": f"Item {i}", "quantity": 1 + i,
              "unit_price": {"amount": 1000 + 10 * i, "currency": "EUR"},
              "tax": {"amount": 190, "currency": "EUR"}} for i in range(1 + number % 3)]
    return orjson.dumps({"customer": {"email": f"buyer{number}@example.com", "name": f"Buyer {number}"},
                         "currency": "EUR", "line_items": lines, "shipping": {"amount": 500, "currency": "EUR"}})


class CreateClient(asyncio.Protocol):
    """One keep-alive connection sending one create after the other, each with its own
    correlation id (which the order.created event carries in its headers)."""

    def __init__(self, port: int, token: str, name: str, window: Window, stop: asyncio.Event) -> None:
        self.head = (f"POST /v1/orders HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nAccept: application/json\r\n").encode()
        self.name, self.window, self.stop = name, window, stop
        self.sent = 0
        self.buffer = bytearray()
        self.expected: int | None = None
        self.status = 0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        if self.stop.is_set():
            self.transport.close()
            return
        self.sent += 1
        correlation_id = f"bench-{self.name}-{self.sent}"
        body = order_body(self.sent)
        self.window.sent(correlation_id)
        self.transport.write(self.head + f"X-Correlation-Id: {correlation_id}\r\nContent-Length: {len(body)}"
                                         f"\r\n\r\n".encode() + body)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            start = head.find(b"content-length:")
            stop = head.find(b"\r\n", start)
            self.status = int(head[9:12])
            self.expected = end + 4 + int(head[start + 15:stop if stop > 0 else None])
        if len(self.buffer) >= self.expected:
            self.window.acknowledged(self.status == 201)
            if self.status != 201:  # refused: no event will come, so it is not waited for
                self.window.sent_at.pop(f"bench-{self.name}-{self.sent}", None)
            if self.status != 201 and not self.window.errors % 100:
                print(f"  {self.status}: {bytes(self.buffer[:self.expected])[-300:]!r}", file=sys.stderr)
            del self.buffer[:self.expected]
            self.expected = None
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def tail(consumer: AIOKafkaConsumer, window: Window, wanted_type: bytes | None) -> None:
    """Marks every consumed message (of ``wanted_type``) by its correlation id, or its key."""
    while True:
        batches = await consumer.getmany(timeout_ms=100)
        for messages in batches.values():
            for message in messages:
                headers = dict(message.headers or ())
                if wanted_type is not None and headers.get("flint-event-type") != wanted_type:
                    continue
                key = headers.get("flint-correlation-id")
                window.consumed(key.decode() if key else message.key.decode())


async def latest_consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of ``topic``, from its end (no group: nothing is committed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - the consumer's own metadata call
    partitions = [TopicPartition(topic, p) for p in (cluster.partitions_for_topic(topic) or ())]
    if not partitions:
        await consumer.stop()
        raise RuntimeError(f"topic {topic} has no partitions yet")
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def run_creates(bootstrap: str, port: int, tokens: list[str], args: argparse.Namespace,
                      server_pid: int) -> dict:
    window, stop = Window(), asyncio.Event()
    consumer = await _consumer_when_ready(bootstrap, ORDERS_EVENTS)
    tailing = asyncio.create_task(tail(consumer, window, ORDER_CREATED.encode()))
    loop = asyncio.get_running_loop()
    clients = []
    try:
        for index in range(args.clients):
            token = tokens[index % len(tokens)]
            _, client = await loop.create_connection(
                lambda i=index, t=token: CreateClient(port, t, f"{i}", window, stop), HOST, port)
            clients.append(client)
        cpu: list[float] = []
        machine: list[dict[str, float]] = []

        def sample() -> None:
            cpu.append(process_group_cpu(server_pid))
            machine.append(machine_cpu())

        seconds = await measure(window, args.warmup, args.seconds, sample)
        sample()
        stop.set()
        await asyncio.wait([c.closed for c in clients], timeout=10)
        await asyncio.sleep(1)  # let the last events of the window arrive (they were sent in it)
        result = window.summary(seconds)
        result["cpu_ms_per_create"] = (cpu[1] - cpu[0]) / max(result["acked"], 1) * 1000
        result["cpu_share"] = (cpu[1] - cpu[0]) / seconds
        result["machine_cores_busy"] = cores_busy(machine[0], machine[1], seconds)
        return result
    finally:
        tailing.cancel()
        await asyncio.gather(tailing, return_exceptions=True)
        await consumer.stop()


# --- the raw aiokafka loop ------------------------------------------------------------------------------------


async def run_raw(bootstrap: str, args: argparse.Namespace) -> dict:
    topic = f"flint.bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, RAW_PARTITIONS, 1)])
        window, stop = Window(), asyncio.Event()
        consumer = await _consumer_when_ready(bootstrap, topic)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=2)
        await producer.start()
        tailing = asyncio.create_task(tail(consumer, window, None))
        payload = order_body(7) * 3  # about the size of an order.created event

        async def client(index: int) -> None:
            sent = 0
            while not stop.is_set():
                sent += 1
                key = f"raw-{index}-{sent}"
                window.sent(key)
                try:
                    await producer.send_and_wait(topic, payload, key=key.encode())
                    window.acknowledged(True)
                except Exception:  # noqa: BLE001 - counted, never hidden
                    window.acknowledged(False)

        try:
            tasks = [asyncio.create_task(client(i)) for i in range(args.clients)]
            seconds = await measure(window, args.warmup, args.seconds)
            stop.set()
            await asyncio.gather(*tasks)
            await asyncio.sleep(1)
            return window.summary(seconds)
        finally:
            tailing.cancel()
            await asyncio.gather(tailing, return_exceptions=True)
            await producer.stop()
            await consumer.stop()
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()


async def _consumer_when_ready(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    deadline = time.monotonic() + 30
    while True:
        try:
            return await latest_consumer(bootstrap, topic)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


# --- the orders process ---------------------------------------------------------------------------------------


async def start_orders(env: dict[str, str], issuer: Issuer, args: argparse.Namespace) -> tuple[subprocess.Popen, int]:
    port = free_port()
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    # new consumer groups read only what comes next: the shared topics' history would be
    # consumed (and charged to the creates) otherwise
    await groups_at_end(env["KAFKA_BOOTSTRAP_SERVERS"],
                        create_runtime(OrdersSettings(consumer_group_prefix=prefix)).consumer_groups())
    server_env = {
        **os.environ, **env, "DATABASE_NAME": BENCH_DB, "FLINT_INSTALLS_URL": issuer.url,
        "FLINT_ORDERS_PORT": str(port), "FLINT_ORDERS_ROLE": "all", "FLINT_ORDERS_WORKERS": str(args.workers),
        "FLINT_ORDERS_GROUP_PREFIX": prefix, "FLINT_ORDERS_SECRET": secrets.token_urlsafe(40),
        "DB_POOL_MIN": str(args.pool),
        "DB_POOL_MAX": str(args.pool), "FLINT_LOG_LEVEL": "WARNING", **NO_RATE_LIMIT,
    }
    command = [sys.executable, "-m", "flint_orders"]
    if args.profile:  # py-spy samples the whole run, children (uvicorn workers) included
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses", "--rate", "200", "--format", args.profile_format,
                   "-o", args.profile, "--", *command]
    server = subprocess.Popen(command, env=server_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    wait_ready(port, server)
    return server, port


def stop_process(server: subprocess.Popen) -> None:
    os.killpg(server.pid, 2 if server.args[0].endswith("py-spy") else 15)  # py-spy writes its profile on SIGINT
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, 9)


async def bench(env: dict[str, str], args: argparse.Namespace) -> tuple[dict, dict]:
    await recreate(env["DATABASE_URL"], BENCH_DB)
    issuer = Issuer()
    merchants = [new_id("mer") for _ in range(args.merchants)]
    tokens = [issuer.merchant_token(merchant, "orders:write orders:read") for merchant in merchants]
    server, port = await start_orders(env, issuer, args)
    try:
        print(f"POST /v1/orders: {args.clients} clients, {args.merchants} merchant(s), {args.seconds:g} s, "
              f"{args.workers} worker(s) ...", flush=True)
        creates = await run_creates(env["KAFKA_BOOTSTRAP_SERVERS"], port, tokens, args, server.pid)
    finally:
        stop_process(server)
        issuer.close()
    print(f"raw aiokafka produce -> consume: {args.clients} producers, {args.seconds:g} s ...", flush=True)
    raw = await run_raw(env["KAFKA_BOOTSTRAP_SERVERS"], args)
    return creates, raw


def report(creates: dict, raw: dict) -> bool:
    ratio = creates["rate"] / raw["rate"]
    print()
    print(f"{'':<34}{'per s':>9}{'e2e p50 ms':>12}{'e2e p99 ms':>12}{'errors':>8}")
    print(f"{'POST /v1/orders -> order.created':<34}{creates['rate']:>9.0f}{creates['p50_ms']:>12.2f}"
          f"{creates['p99_ms']:>12.2f}{creates['errors']:>8}")
    print(f"{'raw aiokafka produce -> consume':<34}{raw['rate']:>9.0f}{raw['p50_ms']:>12.2f}"
          f"{raw['p99_ms']:>12.2f}{raw['errors']:>8}")
    print(f"ratio: {ratio:.1%} of the raw loop (target >= 10 %); orders process CPU "
          f"{creates['cpu_ms_per_create']:.2f} ms per create (target <= 1.5 ms), {creates['cpu_share']:.0%} of a "
          f"core; {creates['consumed']} of {creates['acked']} creates seen as order.created")
    busy = creates["machine_cores_busy"]
    print("cores busy while creating: " + ", ".join(f"{name} {value:.2f}" for name, value in busy.items())
          + " (all: every process on the machine; Kafka and PostgreSQL may be shared with others)")
    print(json.dumps({"creates": creates, "raw": raw, "ratio": ratio}))
    return ratio >= TARGET_SHARE and creates["cpu_ms_per_create"] <= TARGET_CPU_MS and creates["errors"] == 0


def figures(env: dict[str, str], *, seconds: float, warmup: float = 3.0) -> list[Figure]:
    """The create rows of `make bench`: one merchant (its creates take one number row in
    turn) and sixteen, 16 clients each, each beside a raw loop of the same run."""
    rows = []
    for merchants in (1, 16):
        args = argparse.Namespace(seconds=seconds, warmup=warmup, clients=16, merchants=merchants, workers=1,
                                  pool=10, profile=None, profile_format="speedscope")
        creates, raw = uvloop.run(bench(env, args))
        shown = f"{merchants} merchant{'s' if merchants > 1 else ''}"
        notes = {k: creates[k] for k in ("acked", "errors", "consumed", "cpu_share")}
        rows += [
            Figure(f"create: POST /v1/orders -> order.created/s, {shown}", creates["rate"], "/s", raw["rate"],
                   "raw aiokafka loop", ("ratio", ">=", TARGET_SHARE), notes=notes),
            Figure(f"create: orders CPU per create, {shown}", creates["cpu_ms_per_create"], "ms",
                   goal=("value", "<=", TARGET_CPU_MS)),
            Figure(f"create: e2e p99, {shown}", creates["p99_ms"], "ms", raw["p99_ms"], "raw aiokafka loop"),
        ]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_create", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time of each side (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--merchants", type=int, default=1, help="merchants the clients create orders for")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--pool", type=int, default=10, help="database connections per worker (default 10)")
    parser.add_argument("--profile", metavar="FILE", help="record the orders process with py-spy into FILE")
    parser.add_argument("--profile-format", default="speedscope", choices=("speedscope", "flamegraph", "raw"))
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 300 or not 1 <= args.clients <= 256:
        parser.error("--seconds must be 1..300 and --clients 1..256")
    env = stack_env()
    creates, raw = uvloop.run(bench(env, args))
    print("target met" if report(creates, raw) else "target NOT met")


if __name__ == "__main__":
    main()
