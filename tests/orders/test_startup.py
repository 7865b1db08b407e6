"""Starting the orders service against servers that are not there ends with one line."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_wrong_database_url_is_one_line_naming_what_was_tried():
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/postgres",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "flint_orders"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "flint: cannot connect to PostgreSQL at postgresql://postgres:***@127.0.0.1:1/postgres")
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
