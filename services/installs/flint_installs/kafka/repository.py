"""SQL of ``app_kafka_access`` (migration 0004): the access the broker should give each app,
and the last change it was given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

_ADD = """
INSERT INTO app_kafka_access (app_id, readable, version, changed_at) VALUES ($1, false, 0, $2)
ON CONFLICT (app_id) DO NOTHING
"""
_LOCK_ROW = "SELECT 1 FROM app_kafka_access WHERE app_id = $1 FOR UPDATE"
# A statement of its own, after the row lock: it sees every install committed before it, so two
# uninstalls of one app by two merchants cannot both believe the other install is still there.
_DECIDE = """
UPDATE app_kafka_access SET readable = wanted.readable, version = version + 1, changed_at = $2
FROM (SELECT EXISTS (SELECT 1 FROM installs WHERE app_id = $1 AND status = 'active') AS readable) AS wanted
WHERE app_id = $1 AND app_kafka_access.readable IS DISTINCT FROM wanted.readable
RETURNING version
"""
_LOCK_APPLYING = "SELECT pg_advisory_xact_lock(hashtextextended('flint_installs:kafka_access:' || $1, 0))"
_STATE = "SELECT app_id, readable, version, applied_version FROM app_kafka_access WHERE app_id = $1"
_APPLIED = """
UPDATE app_kafka_access SET applied_version = $2, applied_at = $3, last_error = NULL
WHERE app_id = $1 AND applied_version < $2
"""
_FAILED = "UPDATE app_kafka_access SET last_error = $2 WHERE app_id = $1"
_PENDING = "SELECT app_id FROM app_kafka_access WHERE applied_version < version ORDER BY changed_at LIMIT $1"
_LOCK_CREDENTIAL = "SELECT pg_advisory_xact_lock(hashtextextended('flint_installs:kafka_credential:' || $1, 0))"


@dataclass(frozen=True)
class AccessState:
    app_id: str
    readable: bool
    version: int
    applied_version: int

    @property
    def applied(self) -> bool:
        return self.applied_version >= self.version


async def decide(conn: asyncpg.Connection, app_id: str, now: datetime) -> bool:
    """After the app's installs changed in this transaction: should it read its topic? True
    when that changed (the broker must be told)."""
    await conn.execute(_ADD, app_id, now)
    await conn.execute(_LOCK_ROW, app_id)
    return await conn.fetchval(_DECIDE, app_id, now) is not None


async def lock_for_applying(conn: asyncpg.Connection, app_id: str) -> AccessState | None:
    """Hold the app for the rest of the transaction (one change reaches the broker at a time,
    in order) and read what it should have."""
    await conn.execute(_LOCK_APPLYING, app_id)
    row = await conn.fetchrow(_STATE, app_id)
    return AccessState(**row) if row else None


async def mark_applied(conn: asyncpg.Connection, app_id: str, version: int, now: datetime) -> None:
    await conn.execute(_APPLIED, app_id, version, now)


async def mark_failed(conn: asyncpg.Connection, app_id: str, error: str) -> None:
    await conn.execute(_FAILED, app_id, error[:1000])


async def pending(conn: asyncpg.Connection, limit: int = 100) -> list[str]:
    """Apps whose access the broker has not been given yet."""
    return [row["app_id"] for row in await conn.fetch(_PENDING, limit)]


async def lock_credential(conn: asyncpg.Connection, app_id: str) -> None:
    """Hold the app's credential for the rest of the transaction: two requests never make or
    rotate it at once (the second would overwrite the password the first handed out)."""
    await conn.execute(_LOCK_CREDENTIAL, app_id)

