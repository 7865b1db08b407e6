"""Starting the orders service against servers that are not there ends with one line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import asyncpg


def test_a_wrong_database_url_is_one_line_naming_what_was_tried():
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/postgres",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "flint_orders"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "flint: cannot connect to PostgreSQL at postgresql://postgres:***@127.0.0.1:1/postgres")
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


async def test_a_missing_service_secret_is_one_line_naming_the_setting(stack, server_url):
    database = f"test_orders_no_secret_{secrets.token_hex(4)}"
    env = {**os.environ, **stack, "DATABASE_NAME": database, "FLINT_ORDERS_PORT": "18299", "FLINT_ORDERS_ROLE": "api"}
    env.pop("FLINT_ORDERS_SECRET", None)
    try:
        result = subprocess.run([sys.executable, "-m", "flint_orders"], env=env, capture_output=True, text=True,
                                timeout=60)
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await admin.close()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "flint: FLINT_ORDERS_SECRET must be set to at least 32 random characters "
        "(`make up` generates one into .flint/secrets/)")
    assert "Traceback" not in result.stderr
