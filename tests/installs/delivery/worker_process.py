"""The installs worker as its own process (``python -m flint_installs --role worker``): the
router, the outbox relay, the webhook sender and the Kafka access loop, started from the same
settings as the in-process API, and killed (SIGKILL) or stopped like a real deployment's."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from flint_installs.config import InstallsSettings

PORTS = range(19100, 19200)  # the delivery workstream's HTTP ports


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def environment(settings: InstallsSettings, port: int) -> dict[str, str]:
    """What ``settings`` holds, as the environment the service reads (docs/installs.md)."""
    hooks = settings.webhooks
    values = {
        "DATABASE_URL": settings.database_url, "DATABASE_NAME": settings.database,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "FLINT_KAFKA_PLUGIN_BOOTSTRAP": settings.kafka_plugin_bootstrap,
        "FLINT_INSTALLS_SECRET": settings.secret.get_secret_value() if settings.secret else "",
        "FLINT_ADMIN_KEY": settings.admin_key.get_secret_value() if settings.admin_key else "",
        "FLINT_INSTALLS_URL": settings.installs_url, "FLINT_INSTALLS_HOST": "127.0.0.1",
        "FLINT_INSTALLS_PORT": str(port), "FLINT_INSTALLS_DELIVER_EVENTS": "true",
        "FLINT_INSTALLS_GROUP_PREFIX": settings.consumer_group_prefix,
        "OUTBOX_POLL_INTERVAL": str(settings.outbox_poll_interval),
        "CONSUMER_RETRY_BACKOFF": str(settings.consumer_retry_backoff),
        "CONSUMER_REDRIVE_INTERVAL": str(settings.consumer_redrive_interval),
        "KAFKA_ACCESS_INTERVAL": str(settings.kafka_access_interval),
        "DB_POOL_MIN": "1", "FLINT_LOG_LEVEL": "INFO",
    }
    for name, value in hooks.model_dump().items():
        values[f"FLINT_WEBHOOKS_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


class WorkerProcess:
    def __init__(self, settings: InstallsSettings, log: Path) -> None:
        self._settings = settings
        self._log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with open(self._log, "ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flint_installs", "--role", "worker"], stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, **environment(self._settings, self.port)},
            )
        await self._ready()

    async def _ready(self, timeout: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self._log.read_text()}")
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the worker did not start in {timeout}s:\n{self._log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a crashed machine."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
