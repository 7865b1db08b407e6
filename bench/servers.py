"""The Kafka and PostgreSQL a benchmark measures on.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` when both are set; else a Kafka and
PostgreSQL of the benchmark's own, started with deploy/stack.py under .flint/bench (ports
``BENCH_KAFKA_PORT`` 19292 and the next two, ``BENCH_PG_PORT`` 55632, ``BENCH_SMTP_PORT``
19225) and stopped afterwards.

Never the servers of `make up`: its services consume the same topics, so they would read the
benchmark's events (its orders service parks every refund event of an order it does not
know, and dead-letters them a quarter of an hour later) and their work would be measured too.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_GIVEN = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "FLINT_KAFKA_PLUGIN_BOOTSTRAP")


@contextlib.contextmanager
def servers() -> Iterator[dict[str, str]]:
    """The servers' environment (``KAFKA_BOOTSTRAP_SERVERS``, ``DATABASE_URL``, …)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_URL"):
        yield {k: os.environ[k] for k in _GIVEN if os.environ.get(k)}
        return
    kafka = int(os.environ.get("BENCH_KAFKA_PORT", "19292"))
    own = {"FLINT_STATE_DIR": str(ROOT / ".flint" / "bench"), "FLINT_KAFKA_PORT": str(kafka),
           "FLINT_KAFKA_CONTROLLER_PORT": str(kafka + 1), "FLINT_KAFKA_PLUGIN_PORT": str(kafka + 2),
           "FLINT_PG_PORT": os.environ.get("BENCH_PG_PORT", "55632"),
           "FLINT_SMTP_PORT": os.environ.get("BENCH_SMTP_PORT", "19225")}
    stack = [sys.executable, str(ROOT / "deploy" / "stack.py")]
    print("bench: starting a Kafka and PostgreSQL of its own under .flint/bench", flush=True)
    started = subprocess.run([*stack, "up", "--infra-only", "--json"], capture_output=True, text=True,
                             env={**os.environ, **own}, check=False)
    if started.returncode != 0:
        subprocess.run([*stack, "down"], env={**os.environ, **own}, capture_output=True, check=False)
        sys.exit(f"bench: could not start a Kafka and PostgreSQL of its own: {started.stderr.strip()}")
    try:
        yield json.loads(started.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run([*stack, "down"], env={**os.environ, **own}, capture_output=True, check=False)


def for_this_process() -> dict[str, str]:
    """``servers()`` for a benchmark run on its own (``python -m bench.<name>``): stopped when
    the process exits."""
    stack = contextlib.ExitStack()
    env = stack.enter_context(servers())
    atexit.register(stack.close)
    return env
