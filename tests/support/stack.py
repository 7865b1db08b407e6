"""Where the tests find Kafka and PostgreSQL, in this order:

1. ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` from the environment (with
   ``FLINT_KAFKA_PLUGIN_BOOTSTRAP``, the broker's plugin listener, for the access tests);
2. a local stack of their own started through ``deploy/stack.py`` (no Docker needed), under
   ``.flint/test`` on ports of its own, so test data never lands in the stack of ``make up``;
3. testcontainers, where a Docker engine answers;
4. otherwise a clear failure. An integration test is never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Where the tests' own local stack lives; FLINT_TEST_* move its ports.
TEST_STACK = {
    "FLINT_STATE_DIR": str(ROOT / ".flint" / "test"),
    "FLINT_KAFKA_PORT": os.environ.get("FLINT_TEST_KAFKA_PORT", "19192"),
    "FLINT_KAFKA_CONTROLLER_PORT": os.environ.get("FLINT_TEST_KAFKA_CONTROLLER_PORT", "19193"),
    "FLINT_KAFKA_PLUGIN_PORT": os.environ.get("FLINT_TEST_KAFKA_PLUGIN_PORT", "19194"),
    # Short, so a test can watch a connection made with a rotated password end (docs/kafka.md).
    "FLINT_KAFKA_PLUGIN_REAUTH_MS": os.environ.get("FLINT_TEST_KAFKA_PLUGIN_REAUTH_MS", "5000"),
    "FLINT_PG_PORT": os.environ.get("FLINT_TEST_PG_PORT", "55532"),
    "FLINT_SMTP_PORT": os.environ.get("FLINT_TEST_SMTP_PORT", "19125"),
}


class StackUnavailable(RuntimeError):
    pass


def _from_env() -> dict[str, str] | None:
    kafka, database = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("DATABASE_URL")
    if kafka and database:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "DATABASE_URL": database}
        if os.environ.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):  # the broker's plugin (SASL/SCRAM) listener
            env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] = os.environ["FLINT_KAFKA_PLUGIN_BOOTSTRAP"]
        return env
    return None


def _from_local_stack() -> tuple[dict[str, str] | None, str]:
    if not (ROOT / "deploy" / "kafka" / "target" / "libs").exists():
        return None, "deploy/: Kafka jars not resolved (run `make setup`)"
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "stack.py"), "up", "--infra-only", "--json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **TEST_STACK},
    )
    if result.returncode != 0:
        return None, f"deploy/stack.py up failed: {result.stderr.strip()}"
    return {**json.loads(result.stdout.strip().splitlines()[-1]), **TEST_STACK}, ""


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _from_testcontainers() -> tuple[dict[str, str], list[object]]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    postgres = PostgresContainer("postgres:16", driver=None)
    kafka.start()
    postgres.start()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.get_bootstrap_server(), "DATABASE_URL": postgres.get_connection_url()}
    return env, [kafka, postgres]


def resolve() -> tuple[dict[str, str], list[object]]:
    """The servers to test against, and any containers to stop afterwards."""
    env = _from_env()
    if env:
        return env, []
    env, why_not = _from_local_stack()
    if env:
        return env, []
    if _docker_answers():
        return _from_testcontainers()
    raise StackUnavailable(
        "no Kafka/PostgreSQL for the integration tests: KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL are not set, "
        f"{why_not}, and no Docker engine answers for testcontainers. Run `make setup` (or `make test`)."
    )
