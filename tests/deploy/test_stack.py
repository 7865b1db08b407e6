"""`make status` tells whether Kafka (both its listeners) and PostgreSQL answer, and where
(tests/ops/test_status.py checks the rest: services, lag, failures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
STACK = Path(__file__).resolve().parents[2] / "deploy" / "stack.py"


def test_status_lists_kafka_and_postgres_as_running_with_their_addresses(stack):
    result = subprocess.run([sys.executable, str(STACK), "status"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, **stack})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.strip()}
    kafka_host = stack["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0]
    assert lines["kafka"][0] == "healthy" and kafka_host in lines["kafka"][1]
    assert lines["postgres"][0] == "healthy"
    # the plugin listener is listed with its address and how plugins log in to it
    plugin = stack.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP")
    assert plugin, "the stack did not report its plugin listener (FLINT_KAFKA_PLUGIN_BOOTSTRAP)"
    assert lines["kafka-plugins"][0] == "healthy"
    assert lines["kafka-plugins"][1] == plugin and "SCRAM-SHA-512" in " ".join(lines["kafka-plugins"])
