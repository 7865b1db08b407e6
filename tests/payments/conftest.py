"""A sandbox processor on a ledger database of its own for each test, on the real PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from flint_chassis.config import with_database
from flint_payments import SandboxProcessor, SandboxSettings


@pytest.fixture
async def sandbox_settings(server_url: str) -> AsyncIterator[SandboxSettings]:
    """Settings naming a ledger database that does not exist yet; dropped afterwards."""
    settings = SandboxSettings(DATABASE_URL=server_url, FLINT_SANDBOX_DATABASE=f"test_sbx_{secrets.token_hex(6)}")
    yield settings
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{settings.database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def sandbox(sandbox_settings: SandboxSettings) -> AsyncIterator[SandboxProcessor]:
    async with await SandboxProcessor.open(sandbox_settings) as processor:
        yield processor


@pytest.fixture
async def ledger(sandbox_settings: SandboxSettings, sandbox: SandboxProcessor) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the ledger, to count what moved."""
    conn = await asyncpg.connect(with_database(sandbox_settings.database_url, sandbox_settings.database))
    yield conn
    await conn.close()
