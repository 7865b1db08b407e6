"""A PostgreSQL cluster of a test's own, for tests that must stop or restart the server
(never the shared test stack). Debian's server binaries, trust auth on 127.0.0.1, data in
a temporary folder, a port from ``FLINT_TEST_PG_PORTS`` (default 56100-56199)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"PostgreSQL server tool {tool} not found (make setup installs it)")
    return found[-1]


def _free_port(ports: str | None = None) -> int:
    low, high = (int(p) for p in (ports or os.environ.get("FLINT_TEST_PG_PORTS", "56100-56199")).split("-"))
    for port in range(low, high + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


class PostgresCluster:
    def __init__(self, ports: str | None = None) -> None:
        """``ports``: a range "low-high" to pick the port from (default FLINT_TEST_PG_PORTS)."""
        self.base = Path(tempfile.mkdtemp(prefix="flint-pg-"))
        self.data = self.base / "data"
        self.port = _free_port(ports)
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user:
            shutil.chown(self.base, self._user)
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.base / "log"), "start",
                  "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1")

    def stop_immediately(self) -> None:
        """As a crash would: no checkpoint, every connection cut."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(self._as_user(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
                       capture_output=True, check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def _as_user(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self._user, "--", *argv] if self._user else list(argv)

    def _run(self, *argv: str) -> None:
        subprocess.run(self._as_user(*argv), check=True, capture_output=True, timeout=120, cwd=self.base)
