"""`make status` (deploy/stack.py status) checks what it shows: each service's /readyz and
version, consumer lag that grows while a consumer is stopped, outbox backlog and dead
letters, the servers where the environment says they are, and an exit code with one line
saying why when something is unhealthy."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from flint_chassis.config import service_version
from flint_contracts.topics import ORDERS_COMMANDS
from tests.ops.launched import LaunchedStack

pytestmark = pytest.mark.integration


def rows(stdout: str) -> dict[str, dict]:
    """Each component's line: state, where, and its key=value details."""
    found = {}
    for line in stdout.splitlines():
        if not line or line[0].isspace():
            continue
        name, state, *rest = line.split()
        details = dict(part.split("=", 1) for part in rest if "=" in part)
        found[name] = {"state": state, "where": rest[0] if rest else "", **details}
    return found


def test_a_running_stack_is_healthy_with_versions_lag_and_backlog(launched):
    result = launched.status()
    assert result.returncode == 0, result.stdout + result.stderr
    found = rows(result.stdout)
    for service in launched.names:  # every service `make up` starts
        assert found[service]["state"] == "healthy" and found[service]["where"] == launched.url(service)
        assert found[service]["version"] == service_version(service) != "unknown"
        assert {"lag", "outbox", "dead_letters"} <= set(found[service])
    assert found["postgres"]["state"] == "healthy" and found["postgres"]["version"].startswith("15")
    assert found["kafka"]["state"] == "healthy"
    assert result.stderr == ""


def test_servers_from_the_environment_are_checked_like_local_ones(launched):
    # `set -a; . .flint/stack.env; set +a` puts every server's address in the environment
    result = launched.status(env=launched.stack_env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = rows(result.stdout)
    assert found["postgres"]["state"] == "healthy" and "version" in found["postgres"]
    assert found["kafka"]["state"] == "healthy"
    assert "external" not in result.stdout
    assert found["orders"]["state"] == "healthy"


async def test_lag_shows_while_a_consumer_is_stopped_and_events_are_produced(launched, kafka_bootstrap):
    # given the orders service stopped
    launched.stop_service("orders")
    try:
        # when three commands are produced for it
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for number in range(3):
                await producer.send_and_wait(ORDERS_COMMANDS, b"lag probe", key=f"ops-lag-{number}".encode())
        finally:
            await producer.stop()
        result = launched.status()
        # then status fails on the stopped service, in one line, and shows what waits for it
        assert result.returncode != 0
        assert result.stderr.count("\n") == 1 and "orders does not answer" in result.stderr, result.stderr
        orders = rows(result.stdout)["orders"]
        assert orders["state"] == "stopped"
        assert int(orders["lag"]) >= 3
        assert f"lag {launched.group_prefix}orders.commands:" in result.stdout
    finally:
        launched.up()  # starts what is not running: the orders service again
    result = launched.status()
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stopped_postgresql_makes_status_fail_with_one_clear_line(stack):
    # given a stack of this test's own whose PostgreSQL stops
    own = LaunchedStack(stack, services=False)
    try:
        own.up()
        assert own.status().returncode == 0
        own.stop_postgres()
        # when status runs, from the launcher's state and from the environment alike
        for result in (own.status(), own.status(env=own.stack_env)):
            # then it exits non-zero with one line naming PostgreSQL and where it was looked for
            assert result.returncode != 0
            [line] = result.stderr.splitlines()
            port = own.env["FLINT_PG_PORT"]
            assert line.startswith("flint status: unhealthy: postgres does not answer at ") and port in line, line
            assert rows(result.stdout)["postgres"]["state"] in ("stopped", "unhealthy")
    finally:
        own.down()
