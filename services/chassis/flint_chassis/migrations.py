"""Forward-only SQL migrations. Each component (the chassis, a service) has a folder of
numbered ``NNNN_name.sql`` files; each file runs once, in its own transaction, in order.
An applied file whose text later changed is refused: write a new migration instead."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

CHASSIS_MIGRATIONS = Path(__file__).parent / "migrations"

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS flint_schema_migrations (
    component  text NOT NULL,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, name)
)
"""
_LOCK_KEY = 0x666C696E74  # "flint": serializes migrators started side by side


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    component: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(component: str, folder: Path) -> list[Migration]:
    files = sorted(folder.glob("*.sql"))
    return [Migration(component, f.name, f.read_text()) for f in files]


async def migrate(conn: asyncpg.Connection, sources: list[tuple[str, Path]]) -> list[str]:
    """Apply what has not been applied; return the names applied now ("component/file")."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        done = {
            (r["component"], r["name"]): r["checksum"]
            for r in await conn.fetch("SELECT component, name, checksum FROM flint_schema_migrations")
        }
        for component, folder in sources:
            for migration in load(component, folder):
                key = (migration.component, migration.name)
                if key in done:
                    if done[key] != migration.checksum:
                        raise MigrationError(
                            f"migration {component}/{migration.name} changed after it was applied; add a new one instead"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO flint_schema_migrations (component, name, checksum) VALUES ($1, $2, $3)",
                        component, migration.name, migration.checksum,
                    )
                applied_now.append(f"{component}/{migration.name}")
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
