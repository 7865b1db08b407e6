"""Forward-only migrations on a real PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from flint_chassis.migrations import CHASSIS_MIGRATIONS, MigrationError, migrate

pytestmark = pytest.mark.integration


def service_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_orders.sql").write_text("CREATE TABLE orders (id text PRIMARY KEY, total bigint NOT NULL);")
    (folder / "0002_tags.sql").write_text("ALTER TABLE orders ADD COLUMN tags text[] NOT NULL DEFAULT '{}';")
    return folder


async def schema(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"""
    )
    return [tuple(r) for r in rows]


async def test_migrations_apply_to_an_empty_database_and_a_second_run_changes_nothing(database_url, tmp_path):
    # given an empty database and the chassis' and a service's migrations
    sources = [("chassis", CHASSIS_MIGRATIONS), ("orders", service_migrations(tmp_path))]
    conn = await asyncpg.connect(database_url)
    try:
        # when they run twice
        first = await migrate(conn, sources)
        schema_after_first = await schema(conn)
        second = await migrate(conn, sources)
        # then the first run applied every file in order, and the second applied nothing and changed nothing
        chassis = [f"chassis/{f.name}" for f in sorted(CHASSIS_MIGRATIONS.glob("*.sql"))]
        assert chassis[:2] == ["chassis/0001_outbox_inbox.sql", "chassis/0002_install_state.sql"]
        assert first == [*chassis, "orders/0001_orders.sql", "orders/0002_tags.sql"]
        assert second == []
        assert await schema(conn) == schema_after_first
        assert ("orders", "tags", "ARRAY") in schema_after_first
        assert {t for t, _, _ in schema_after_first} >= {"flint_outbox", "flint_inbox", "flint_schema_migrations"}
    finally:
        await conn.close()


async def test_an_applied_migration_that_was_edited_is_refused(database_url, tmp_path):
    folder = service_migrations(tmp_path)
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn, [("orders", folder)])
        (folder / "0001_orders.sql").write_text("CREATE TABLE orders (id text PRIMARY KEY);")
        with pytest.raises(MigrationError, match="0001_orders.sql changed after it was applied"):
            await migrate(conn, [("orders", folder)])
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_applied(database_url, tmp_path):
    folder = service_migrations(tmp_path)
    (folder / "0003_broken.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(conn, [("orders", folder)])
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        assert "half" not in tables and "orders" in tables
        applied = await conn.fetchval("SELECT count(*) FROM flint_schema_migrations")
        assert applied == 2
    finally:
        await conn.close()
