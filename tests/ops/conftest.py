"""One launched stack (deploy/stack.py: installs and orders as processes, PostgreSQL of its
own, the test broker) for the operations tests of this folder, and a merchant on it."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from flint_chassis.config import ServiceSettings
from flint_chassis.runtime import ServiceRuntime
from tests.ops.launched import LaunchedStack
from tests.orders.service import start_groups_at_end


@pytest.fixture(scope="module")
def launched(stack: dict[str, str]) -> Iterator[LaunchedStack]:
    """Started once per module; the consumer groups of its orders start at the broker's end,
    so it never reads earlier tests' messages."""
    running = LaunchedStack(stack)
    try:
        asyncio.run(start_groups_at_end(stack["KAFKA_BOOTSTRAP_SERVERS"], consumer_groups(running)))
        running.up()
        yield running
    finally:
        running.down()


def consumer_groups(running: LaunchedStack) -> dict[str, tuple[str, ...]]:
    """Every launched service's consumer groups and topics, under the stack's prefix."""
    groups: dict[str, tuple[str, ...]] = {}
    for name in running.names:
        settings = settings_of(name)(consumer_group_prefix=running.group_prefix)
        groups |= runtime_of(name, settings).consumer_groups()
    return groups


def runtime_of(service: str, settings: ServiceSettings) -> ServiceRuntime:
    """The service's runtime, built and not started: from its app module's ``create_runtime``,
    or (installs) from the context its ``create_app`` keeps in the app's state."""
    app = importlib.import_module(f"flint_{service}.app")
    if hasattr(app, "create_runtime"):
        return app.create_runtime(settings)
    return getattr(app.create_app(settings).state, service).runtime


def settings_of(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"flint_{service}.config")
    [found] = [value for value in vars(module).values() if isinstance(value, type)
               and issubclass(value, ServiceSettings) and value.service_name == service]
    return found


@dataclass
class Merchant:
    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest_asyncio.fixture
async def merchant(launched: LaunchedStack) -> AsyncIterator[Merchant]:
    """A merchant created with the admin key, holding a client-credentials token for orders."""
    admin = {"Authorization": f"Bearer {launched.stack_env['FLINT_ADMIN_KEY']}"}
    async with httpx.AsyncClient(base_url=launched.url("installs"), timeout=10) as http:
        created = (await http.post("/v1/merchants", json={"name": "Ops"}, headers=admin)).json()
        token = (await http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": created["id"], "client_secret": created["secret_key"],
            "scope": "orders:read orders:write"})).json()["access_token"]
    yield Merchant(created["id"], token)
