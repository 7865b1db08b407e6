"""Benchmark: orders created over HTTP until their `order.created` is read from an app's topic,
at saturation and at a steady load of half that, beside a raw aiokafka produce -> consume loop.

    python -m bench.pipeline [--seconds 10] [--clients 32] [--merchants 16]

The orders and installs services run as processes (`--role all`, as `make up` runs them; see
bench.app_topic_latency.pipeline), one app installed by each merchant; the clients take the
merchants' tokens in turn. Each order travels:
POST /v1/orders -> orders' outbox -> flint.orders.events.v1 -> installs' router -> installs'
outbox -> flint.app.<app_id>.v1, where a consumer of this benchmark reads it. End-to-end
latency is from the request being written to the socket to the event read, matched by the
correlation id the request carried (the event's `flint-correlation-id` header).

1. saturation: ``--clients`` keep-alive connections, each sending the next create when the
   last one answered; orders/s through the whole pipeline (the lower of creates acknowledged
   and events read from the app topic while recording: when the router falls behind, the
   API acknowledges faster than events arrive), creates acknowledged/s, and the e2e p50/p99
   (queueing included);
2. steady: creates sent at half the pipeline's saturation rate, open loop (on time, whatever the
   answers), e2e p50/p99; target p99 <= 500 ms;
3. raw: the same number of aiokafka producers (idempotent, acks=all, as the outbox relay)
   each sending and awaiting one message after the other, read back by a consumer;
   target: the saturation rate >= 30 % of the raw loop's messages/s.
Between phases the benchmark waits until every acknowledged order's event arrived (the
backlog drained), and reports how long that took and any order never seen.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import httpx
import uvloop

from bench import footprint
from bench.app_topic_latency import Pipeline, pipeline
from bench.figures import Figure
from bench.orders_create import NO_RATE_LIMIT, ORDER_CREATED, HOST, CreateClient, Window, _consumer_when_ready, order_body, run_raw, tail

TARGET_SHARE = 0.30
TARGET_P99_MS = 500.0
# The clients create orders for this many merchants (each installed the app): one merchant's
# creates wait for each other on its gap-free order numbers (docs/orders.md, "Performance").
MERCHANTS = 16

async def drained(window: Window, timeout: float) -> tuple[float, int]:
    """Seconds until every create sent so far was seen on the app topic; and how many never were."""
    started = time.monotonic()
    while window.sent_at and time.monotonic() - started < timeout:
        await asyncio.sleep(0.05)
    return time.monotonic() - started, len(window.sent_at)


async def saturate(running: Pipeline, window: Window, clients: int, warmup: float, seconds: float,
                   sample: Callable[[], None]) -> float:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    connections = []
    for index in range(clients):
        _, client = await loop.create_connection(
            lambda i=index: CreateClient(running.orders_port, running.tokens[i % len(running.tokens)], f"s{i}", window,
                                         stop), HOST,
            running.orders_port)
        connections.append(client)
    await asyncio.sleep(warmup)
    window.recording = True
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        await asyncio.sleep(min(1.0, seconds - (time.perf_counter() - began)))
        sample()
    elapsed = time.perf_counter() - began
    window.recording = False
    stop.set()
    await asyncio.wait([c.closed for c in connections], timeout=10)
    return elapsed


async def steady(running: Pipeline, window: Window, rate: float, warmup: float, seconds: float) -> float:
    """Creates sent on schedule at ``rate`` per second; recorded after ``warmup``."""
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=running.orders_url, headers=headers, limits=limits, timeout=60) as client:
        async def create(number: int) -> None:
            correlation_id = f"steady-{number}"
            window.sent(correlation_id)
            try:
                token = running.tokens[number % len(running.tokens)]
                response = await client.post("/v1/orders", content=order_body(number),
                                             headers={"X-Correlation-Id": correlation_id, "Authorization": f"Bearer {token}"})
                window.acknowledged(response.status_code == 201)
                if response.status_code != 201:  # refused: no event will come
                    window.sent_at.pop(correlation_id, None)
            except httpx.HTTPError:
                window.acknowledged(False)
                window.sent_at.pop(correlation_id, None)

        tasks: list[asyncio.Task] = []
        started = time.monotonic()
        total = int(rate * (warmup + seconds))
        for number in range(total):
            await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
            if number == int(rate * warmup):
                window.recording, began = True, time.perf_counter()
            tasks.append(asyncio.create_task(create(number)))
        elapsed = time.perf_counter() - began
        await asyncio.gather(*tasks)
        window.recording = False
    return elapsed


async def measure(env: dict[str, str], clients: int, seconds: float, warmup: float, merchants: int) -> dict:
    async with pipeline(env, NO_RATE_LIMIT, merchants) as running:
        await asyncio.sleep(2)
        idle = {name: footprint.group_rss_mb(p.pid) for name, p in running.processes.items()}
        consumer = await _consumer_when_ready(running.bootstrap, running.topic)
        results: dict = {"idle_rss_mb": idle}
        try:
            busy = {name: 0.0 for name in running.processes}

            def sample() -> None:
                for name, process in running.processes.items():
                    busy[name] = max(busy[name], footprint.group_rss_mb(process.pid))

            window = Window()
            tailing = asyncio.create_task(tail(consumer, window, ORDER_CREATED.encode()))
            try:
                elapsed = await saturate(running, window, clients, warmup, seconds, sample)
                results["saturation"] = window.summary(elapsed)
                # What went all the way through while recording: when the router falls behind the
                # API, creates are acknowledged faster than their events reach the app topic.
                results["saturation"]["delivered_rate"] = results["saturation"]["consumed"] / elapsed
                results["saturation"]["drain_s"], results["saturation"]["lost"] = await drained(window, 60)
                results["load_rss_mb"] = busy
                through = min(results["saturation"]["rate"], results["saturation"]["delivered_rate"])
                rate = max(through / 2, 1.0)
                window = Window()
                tailing.cancel()
                await asyncio.gather(tailing, return_exceptions=True)
                tailing = asyncio.create_task(tail(consumer, window, ORDER_CREATED.encode()))
                elapsed = await steady(running, window, rate, warmup, seconds)
                drain_s, lost = await drained(window, 60)
                results["steady"] = window.summary(elapsed) | {"offered": rate, "drain_s": drain_s, "lost": lost}
            finally:
                tailing.cancel()
                await asyncio.gather(tailing, return_exceptions=True)
        finally:
            await consumer.stop()
    raw_args = argparse.Namespace(clients=clients, seconds=seconds, warmup=warmup)
    results["raw"] = await run_raw(running.bootstrap, raw_args)
    return results


def figures(env: dict[str, str], *, seconds: float, clients: int = 32, warmup: float = 3.0,
            merchants: int = MERCHANTS) -> list[Figure]:
    """The pipeline rows of `make bench` (and the services' memory under this load)."""
    measured = uvloop.run(measure(env, clients, seconds, warmup, merchants))
    saturation, steady_load, raw = measured["saturation"], measured["steady"], measured["raw"]
    notes = {k: saturation[k] for k in ("acked", "errors", "consumed", "drain_s", "lost")}
    through = min(saturation["rate"], saturation["delivered_rate"])
    return [
        Figure("pipeline: orders/s at saturation (HTTP -> app topic)", through, "/s", raw["rate"],
               "raw aiokafka loop", ("ratio", ">=", TARGET_SHARE), notes=notes | {"clients": clients,
                                                                                   "merchants": merchants}),
        Figure("pipeline: creates acknowledged/s at saturation", saturation["rate"], "/s", raw["rate"],
               "raw aiokafka loop"),
        Figure("pipeline: e2e p50 at saturation", saturation["p50_ms"], "ms", raw["p50_ms"], "raw aiokafka loop"),
        Figure("pipeline: e2e p99 at saturation", saturation["p99_ms"], "ms", raw["p99_ms"], "raw aiokafka loop"),
        Figure("pipeline: orders/s steady (half saturation)", steady_load["rate"], "/s", steady_load["offered"],
               "offered", notes={k: steady_load[k] for k in ("acked", "errors", "consumed", "drain_s", "lost")}),
        Figure("pipeline: e2e p50 steady", steady_load["p50_ms"], "ms", raw["p50_ms"], "raw aiokafka loop"),
        Figure("pipeline: e2e p99 steady", steady_load["p99_ms"], "ms", raw["p99_ms"], "raw aiokafka loop",
               ("value", "<=", TARGET_P99_MS)),
        Figure("pipeline: orders lost (acked, never on app topic)", saturation["lost"] + steady_load["lost"], "",
               goal=("value", "<=", 0)),
        *[Figure(f"footprint: {name} RSS under pipeline load", value, "MB", measured["idle_rss_mb"][name], "idle")
          for name, value in measured["load_rss_mb"].items()],
    ]


def main(argv: list[str] | None = None) -> None:
    from bench.figures import table
    from bench.orders_get import stack_env

    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--merchants", type=int, default=MERCHANTS,
                        help=f"merchants the orders are created for, each with the app installed (default {MERCHANTS})")
    args = parser.parse_args(argv)
    print(table(figures(stack_env(), seconds=args.seconds, clients=args.clients, merchants=args.merchants)))


if __name__ == "__main__":
    main()
