"""Fixtures for tests against the real Kafka broker and PostgreSQL server.

Each test gets its own database and its own topic names, so tests never see each other's
data and can run in any order.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from flint_chassis.config import with_database
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_chassis.topics import ensure_topics
from tests.support import stack as stack_support


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    try:
        env, containers = stack_support.resolve()
    except stack_support.StackUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    yield env
    for container in containers:
        container.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: dict[str, str]) -> str:
    return stack["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def server_url(stack: dict[str, str]) -> str:
    return stack["DATABASE_URL"]


@pytest.fixture
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield with_database(server_url, name)
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database that has the chassis tables (outbox, inbox)."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    async with pool.acquire() as conn:
        await migrate(conn, [("chassis", CHASSIS_MIGRATIONS)])
    yield pool
    await pool.close()


@pytest.fixture
def topic_name() -> Callable[[str], str]:
    run = secrets.token_hex(4)
    return lambda base: f"test.{run}.{base}"


@pytest.fixture
def new_topics(kafka_bootstrap: str, topic_name: Callable[[str], str]):
    async def create(*bases: str, partitions: int = 3) -> list[str]:
        names = [topic_name(b) for b in bases]
        await ensure_topics(kafka_bootstrap, names, partitions=partitions)
        return names

    return create
