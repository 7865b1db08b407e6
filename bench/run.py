"""`make bench`: every benchmark, one table, results as JSON under bench/results/.

    python -m bench                  # full: 10 s per measurement, 3 runs of each benchmark
    BENCH_QUICK=1 python -m bench    # short: 3 s per measurement, 1 run (a few minutes)
    BENCH_RUNS=N  BENCH_ONLY=read,create,pipeline,refunds,webhooks,footprint

Which servers: ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` when set, else a Kafka and
PostgreSQL of the benchmark's own, never those of `make up` (bench.servers). Every service a
benchmark measures is started by that benchmark, as a process, on fresh databases.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from bench.figures import Figure, median_of, table, write_results
from bench.orders_get import ROOT
from bench.servers import servers

BENCHMARKS = ("read", "create", "pipeline", "refunds", "webhooks", "footprint")
TARGET_IDLE_MB = 150.0


def kafka_port(env: dict[str, str]) -> int:
    return int(env["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0].rsplit(":", 1)[1])


# --- the benchmarks, each a list of figures --------------------------------------------------------


def read(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    from bench import orders_get

    return orders_get.figures(env, seconds=seconds, orders=2_000 if quick else 10_000)


def create(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    from bench import orders_create

    return orders_create.figures(env, seconds=seconds, warmup=2.0 if quick else 3.0)


def pipeline(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    from bench import pipeline as pipeline_bench

    return pipeline_bench.figures(env, seconds=seconds, warmup=2.0 if quick else 3.0)


def refunds(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    from bench import refunds as refunds_bench

    return refunds_bench.figures(env, seconds=seconds, orders=50 if quick else 200)


def webhooks(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    import argparse

    import uvloop

    from bench import webhooks as webhooks_bench

    events = 500 if quick else 2000
    args = argparse.Namespace(events=events, orders=events // 5, concurrency=50)
    measured = uvloop.run(webhooks_bench.throughput(env, args))
    faster = max(measured["raw_sequential"], measured["raw_concurrent"])
    return [Figure("webhooks: deliveries/s (claim, sign, POST, record)", measured["sender"], "/s", faster,
                   "raw httpx POST loop", ("ratio", ">=", webhooks_bench.TARGET_SHARE),
                   notes=measured | {"events": events})]


def footprint(env: dict[str, str], seconds: float, quick: bool) -> list[Figure]:
    from bench import footprint as memory
    from bench.webhooks import start_receiver

    receiver, _ = start_receiver()  # a bare uvicorn app: the least a Python HTTP process holds
    try:
        time.sleep(1)
        bare = memory.group_rss_mb(receiver.pid)
    finally:
        receiver.terminate()
        receiver.wait(10)
    rows = [Figure(f"footprint: {name} RSS idle", value, "MB", bare, "bare uvicorn app", ("value", "<=", TARGET_IDLE_MB))
            for name, value in memory.idle_services(env, settle_seconds=2 if quick else 5).items()]
    heap = memory.broker_heap_mb(kafka_port(env))
    if heap.get("heap_used") is not None:
        rows.append(Figure("footprint: Kafka broker heap used", heap["heap_used"], "MB", heap["heap_capacity"],
                           "heap committed", notes=heap))
    else:
        print("bench: the broker is not a process of this machine that jstat can read; no heap figure", flush=True)
    return rows


RUNNERS: dict[str, Callable[[dict[str, str], float, bool], list[Figure]]] = {
    "read": read, "create": create, "pipeline": pipeline, "refunds": refunds, "webhooks": webhooks, "footprint": footprint}


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    seconds = float(os.environ.get("BENCH_SECONDS", "3" if quick else "10"))
    only = [name for name in os.environ.get("BENCH_ONLY", ",".join(BENCHMARKS)).split(",") if name]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"bench: unknown BENCH_ONLY {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    started = datetime.now(UTC)
    figures: list[Figure] = []
    failed: dict[str, str] = {}
    with servers() as env:
        for name in only:
            measured = []
            for run in range(runs):
                print(f"bench: {name}, run {run + 1} of {runs} ({seconds:g} s per measurement) ...", flush=True)
                try:
                    measured.append(RUNNERS[name](env, seconds, quick))
                except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
                    traceback.print_exc()
                    failed[name] = f"{type(error).__name__}: {error}"
                    break
            figures += median_of(measured) if measured else []
    print()
    print(table(figures))
    whole = not quick and not failed and set(only) == set(BENCHMARKS)  # what docs/benchmarks.md may quote
    path = write_results(figures, quick=quick, started=started, latest=whole,
                         extra={"runs": runs, "seconds": seconds, "failed": failed, "only": only})
    missed = [f.name for f in figures if f.met is False]
    print(f"\n{len(figures)} figures, {len(missed)} targets missed; results in {path.relative_to(ROOT)}"
          + (" (and bench/results/latest.json)" if whole else
             " (bench/results/latest.json kept: only a whole run, not quick and without failures, replaces it)"))
    for name, error in failed.items():
        print(f"FAILED {name}: {error}")
    return 1 if failed else 0
