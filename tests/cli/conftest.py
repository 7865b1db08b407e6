"""The installs and orders services on real sockets (while this folder runs, on the cli
workstream's ports), a sandbox ledger of the session's own, and ``flint`` runners whose
profile lives in the test's own folder."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import asyncpg
import pytest

from tests.cli.runner import PORTS, Flint
from tests.deploy.conftest import kafka_access, new_app, plugin_bootstrap  # noqa: F401 - shared fixtures
from tests.sdk.conftest import kafka_credential  # noqa: F401 - shared fixture
from tests.sdk.served import FlintServices, ServedFlint


@pytest.fixture(scope="package")
def flint_services(server_url: str, kafka_bootstrap: str) -> Iterator[FlintServices]:
    with ServedFlint(server_url, kafka_bootstrap, ports=PORTS) as services:
        yield services


@pytest.fixture(scope="package")
def sandbox_database(server_url: str) -> Iterator[str]:
    """The sandbox processor's ledger for this session (created by flint_payments on first use)."""
    name = f"test_cli_sbx_{secrets.token_hex(5)}"
    yield name
    asyncio.run(_drop_database(server_url, name))


async def _drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def flint(tmp_path, flint_services: FlintServices, stack: dict[str, str], sandbox_database: str) -> Flint:
    """``flint`` in a shell where the stack's settings are exported (as after sourcing stack.env)."""
    env = {
        "FLINT_INSTALLS_URL": flint_services.installs_url,
        "FLINT_ADMIN_KEY": flint_services.admin_key,
        "KAFKA_BOOTSTRAP_SERVERS": stack["KAFKA_BOOTSTRAP_SERVERS"],
        "DATABASE_URL": stack["DATABASE_URL"],
        "FLINT_SANDBOX_DATABASE": sandbox_database,
    }
    if stack.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
        env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] = stack["FLINT_KAFKA_PLUGIN_BOOTSTRAP"]
    return Flint(tmp_path, env)


@pytest.fixture
def bare_flint(tmp_path) -> Flint:
    """``flint`` in a shell that knows no stack (and outside any checkout), with a profile
    folder of its own."""
    (tmp_path / "bare").mkdir()
    return Flint(tmp_path / "bare", {})
