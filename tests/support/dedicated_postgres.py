"""A PostgreSQL server of a test's own (deploy/stack.py's, on a port of its own, under a
temporary state folder), for tests that stop the database: never the shared one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.http_server import free_port
from tests.support.stack import ROOT

# Ports of the http workstream's dedicated PostgreSQL servers.
PORTS = range(56200, 56300)


class DedicatedPostgres:
    def __init__(self) -> None:
        self.port = free_port(PORTS)
        # Under /tmp, readable by the postgres user the server runs as when tests run as root.
        self.state = Path(tempfile.mkdtemp(prefix="flint-pg-", dir="/tmp"))
        self.state.chmod(0o755)
        self.url = ""

    def _stack(self, code: str) -> str:
        env = {**os.environ, "FLINT_STATE_DIR": str(self.state), "FLINT_PG_PORT": str(self.port)}
        result = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, 'deploy'); import stack; {code}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"deploy/stack.py: {result.stderr.strip()[-2000:]}")
        return result.stdout.strip()

    def start(self) -> str:
        """Starts (or restarts) the server; returns its server-level URL."""
        self.url = self._stack("print(stack.postgres_up())").splitlines()[-1]
        return self.url

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every connection drops at once, as in an outage."""
        data = (self.state / "postgres").resolve() / "data"
        runuser = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        pg_ctl = self._stack("print(stack._pg_bin('pg_ctl'))")
        subprocess.run([*runuser, pg_ctl, "-D", str(data), "stop", "-m", "immediate", "-w"], check=True,
                       capture_output=True, timeout=60)

    def remove(self) -> None:
        self._stack("stack._stop_postgres()")
        shutil.rmtree(self.state, ignore_errors=True)
