"""A Flint stack of a test's own, started the way `make up` starts one (deploy/stack.py): its
own state directory, PostgreSQL and mail sink on ports of its own, the services as real
processes; Kafka is the test broker (consumer groups prefixed, so nothing else reads its
messages). Stopping it stops only what it started."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "stack.py"
# Ports of this workstream's tests (never the shared stack's): HTTP and PostgreSQL.
HTTP_PORTS = range(19200, 19300)
PG_PORTS = range(57300, 57400)


def launcher_services() -> list[str]:
    """The services `make up` starts (deploy/stack.py's SERVICES), by name."""
    spec = importlib.util.spec_from_file_location("flint_stack_launcher", STACK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return [service.name for service in module.SERVICES]


def free_port(candidates: range, taken: set[int] = frozenset()) -> int:
    for port in candidates:
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")


class LaunchedStack:
    """``deploy/stack.py`` with a state directory and ports of its own."""

    def __init__(self, kafka: dict[str, str], *, services: bool = True) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="flint-ops-"))
        self.state.chmod(0o755)  # the postgres user runs the server and must reach its data
        self.names = launcher_services()
        taken: set[int] = set()
        ports = {}
        for name in (*(f"FLINT_{n.upper()}_PORT" for n in self.names), "FLINT_SMTP_PORT"):
            ports[name] = str(free_port(HTTP_PORTS, taken))
            taken.add(int(ports[name]))
        ports["FLINT_PG_PORT"] = str(free_port(PG_PORTS))
        self.group_prefix = f"ops-{secrets.token_hex(4)}."
        self.services = services
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FLINT_", "OTEL_", "DATABASE_"))},
            "FLINT_STATE_DIR": str(self.state), **ports,
            "KAFKA_BOOTSTRAP_SERVERS": kafka["KAFKA_BOOTSTRAP_SERVERS"],
            "FLINT_KAFKA_PLUGIN_BOOTSTRAP": kafka.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP", ""),
            "OUTBOX_POLL_INTERVAL": "0.2",
            # every service's consumer groups under a prefix of this stack's own
            **{f"FLINT_{n.upper()}_GROUP_PREFIX": self.group_prefix for n in self.names},
        }

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'FLINT_{service.upper()}_PORT']}"

    @property
    def stack_env(self) -> dict[str, str]:
        """What `up` wrote to stack.env (the database URL, the admin key, the services' URLs)."""
        lines = (self.state / "stack.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})}, cwd=ROOT)

    def up(self) -> None:
        result = self.run("up", *([] if self.services else ["--infra-only"]))
        if result.returncode != 0:
            raise RuntimeError(f"deploy/stack.py up failed: {result.stderr}\n{self.logs()}")

    def status(self, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.run("status", env=env, timeout=60)

    def stop_service(self, name: str) -> None:
        """SIGTERM the service's process group, as `down` would, and wait for it to end."""
        pid = int((self.state / "run" / f"{name}.pid").read_text())
        os.killpg(pid, signal.SIGTERM)
        for _ in range(300):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)  # a process ending: nothing to poll but its pid
        os.killpg(pid, signal.SIGKILL)

    def stop_postgres(self) -> None:
        """A fast shutdown of this stack's own PostgreSQL (its postmaster, not the launcher's
        runuser wrapper)."""
        postmaster = int((self.state / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)
        for _ in range(300):
            try:
                os.kill(postmaster, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)  # a process ending: nothing to poll but its pid

    def log_lines(self, service: str) -> list[dict]:
        path = self.state / "logs" / f"{service}.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    def spans(self, service: str) -> list[dict]:
        path = self.state / "traces" / f"{service}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    def logs(self) -> str:
        found = sorted((self.state / "logs").glob("*.log")) if (self.state / "logs").exists() else []
        return "\n".join(f"--- {f.name}\n{f.read_text()[-3000:]}" for f in found)

    def down(self) -> None:
        try:
            self.run("down", timeout=120)
        finally:
            shutil.rmtree(self.state, ignore_errors=True)
