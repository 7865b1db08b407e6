"""A wrong DATABASE_URL or an unreachable broker is one line naming what was tried."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from flint_chassis.config import with_database
from flint_chassis.db import create_pool
from flint_chassis.errors import StartupError
from flint_chassis.topics import ensure_topics


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_database_is_one_line_naming_the_server_without_its_password():
    port = free_port()
    with pytest.raises(StartupError) as error:
        await create_pool(f"postgresql://flint:s3cret@127.0.0.1:{port}/flint_orders")
    message = str(error.value)
    assert message.startswith(f"cannot connect to PostgreSQL at postgresql://flint:***@127.0.0.1:{port}/flint_orders")
    assert "s3cret" not in message and "\n" not in message


@pytest.mark.integration
async def test_a_wrong_password_is_one_line(server_url):
    wrong = server_url.replace("://postgres:", "://postgres:wrong-", 1) if "://postgres:" in server_url else server_url
    with pytest.raises(StartupError) as error:
        await create_pool(with_database(wrong, "postgres"))
    assert "\n" not in str(error.value) and "cannot connect to PostgreSQL" in str(error.value)


async def test_an_unreachable_broker_is_one_line_naming_it():
    port = free_port()
    with pytest.raises(StartupError) as error:
        await ensure_topics(f"127.0.0.1:{port}", ["flint.orders.events.v1"])
    assert str(error.value).startswith(f"cannot reach Kafka at 127.0.0.1:{port}")
    assert "\n" not in str(error.value)


def test_a_service_started_against_a_wrong_database_prints_one_line_and_exits_nonzero():
    port = free_port()
    script = (
        "import asyncio\n"
        "from flint_chassis.cli import run_or_exit\n"
        "from flint_chassis.db import create_pool\n"
        f"run_or_exit(create_pool('postgresql://u:p@127.0.0.1:{port}/x'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert f"127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
