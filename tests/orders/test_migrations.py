"""The orders migrations on an empty database give the schema the repository relies on."""

from __future__ import annotations

import pytest

from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_orders.app import MIGRATIONS

pytestmark = pytest.mark.integration


async def test_migrations_give_the_expected_tables_and_indexes_and_run_once(pool):
    async with pool.acquire() as conn:
        applied = await migrate(conn, [("chassis", CHASSIS_MIGRATIONS), ("orders", MIGRATIONS)])
        again = await migrate(conn, [("chassis", CHASSIS_MIGRATIONS), ("orders", MIGRATIONS)])
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")}
        keys = await conn.fetch("""
            SELECT c.conrelid::regclass::text AS tab, array_agg(a.attname ORDER BY a.attnum) AS cols
              FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
             WHERE c.contype = 'p' GROUP BY 1""")
    assert "orders/0001_orders.sql" in applied and again == []
    assert {"orders", "order_timeline", "order_numbers", "flint_idempotency_keys"} <= tables
    assert "idempotency_keys" not in tables  # the chassis keeps every service's keys
    assert {"orders_by_merchant", "orders_by_status", "orders_by_payment_status", "orders_by_customer_email",
            "orders_by_tag", "orders_by_updated_at"} <= indexes
    primary = {r["tab"]: sorted(r["cols"]) for r in keys}
    assert primary["order_timeline"] == ["order_id", "sequence"]
