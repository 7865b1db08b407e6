"""PostgreSQL connections: the pool, and the service database created on first start."""

from __future__ import annotations

import asyncio

import asyncpg

from flint_chassis.config import redact_url, with_database
from flint_chassis.errors import StartupError

_CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


async def ensure_database(server_url: str, database: str) -> None:
    """Create ``database`` on the server unless it exists (safe when several start at once)."""
    try:
        conn = await asyncpg.connect(server_url, timeout=10)
    except _CONNECT_ERRORS as error:
        raise StartupError(f"cannot connect to PostgreSQL at {redact_url(server_url)}: {_one_line(error)}") from None
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            try:
                await conn.execute(f'CREATE DATABASE "{database}"')
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass  # another process created it meanwhile (at the same instant: the catalog's unique index)
    finally:
        await conn.close()


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    return None


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10, reset: bool = True) -> asyncpg.Pool:
    """A connection pool, or a one-line ``StartupError`` naming the server that was tried.

    ``reset=False`` skips asyncpg's session reset on release (``RESET ALL``, ``UNLISTEN *``,
    advisory unlocks: a round trip per release, about a tenth of a create's cost). asyncpg
    still rolls back a transaction left open and drops the connection's listeners, so it is
    for pools whose users keep their state in transactions: ``SET LOCAL`` and
    ``pg_advisory_xact_lock``, never ``SET`` or session advisory locks (the migration lock is
    released by ``migrate`` itself), and ``LISTEN`` only through ``flint_chassis.listen``,
    which unlistens before it gives its connection back.
    """
    options = {} if reset else {"reset": _nothing_to_reset}
    try:
        return await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=10, **options)
    except _CONNECT_ERRORS as error:
        raise StartupError(f"cannot connect to PostgreSQL at {redact_url(url)}: {_one_line(error)}") from None


async def open_service_database(server_url: str, database: str, **pool_args: int) -> asyncpg.Pool:
    await ensure_database(server_url, database)
    return await create_pool(with_database(server_url, database), **pool_args)
