"""The whole platform as `make up` runs it, once for this folder: `deploy/stack.py up --no-demo`
with a state folder and ports of its own (the demo workstream's, 20330-20399), so its own
Kafka (KRaft, both listeners), its own PostgreSQL and mail sink, every service and both
example plugins run as separate processes. Nothing is shared with the other tests' broker or
databases, so no service of this stack can consume another folder's topics; `stack.py down`
stops every process when the folder is done, and the state folder is deleted."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flint_sdk import FlintClient

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "stack.py"
PORTS = {
    "FLINT_KAFKA_PORT": 20392, "FLINT_KAFKA_CONTROLLER_PORT": 20393, "FLINT_KAFKA_PLUGIN_PORT": 20394,
    "FLINT_PG_PORT": 20332, "FLINT_SMTP_PORT": 20325, "FLINT_INSTALLS_PORT": 20331, "FLINT_ORDERS_PORT": 20333,
    "FLINT_REFUNDS_PORT": 20334, "FLINT_INVOICING_PORT": 20335,
}
# Settings that would point the launcher at the shared test servers instead of its own.
SHARED = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "FLINT_KAFKA_PLUGIN_BOOTSTRAP", "FLINT_SMTP_HOST",
          "FLINT_ADMIN_KEY", "FLINT_STACK_ENV", "FLINT_CLI_HOME")


class LiveStack:
    """The running stack: its environment (what `make up` writes to stack.env) and folder."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.launcher_env = {**{k: v for k, v in os.environ.items() if k not in SHARED and not k.startswith("FLINT_")},
                             **{k: str(v) for k, v in PORTS.items()}, "FLINT_STATE_DIR": str(state),
                             "FLINT_DEMO_WAIT": "45"}

    @property
    def env(self) -> dict[str, str]:
        lines = (self.state / "stack.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))

    @property
    def installs_url(self) -> str:
        return self.env["FLINT_INSTALLS_URL"]

    def run(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=self.launcher_env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def merchant(self) -> dict[str, Any]:
        return json.loads((self.state / "demo" / "merchant.json").read_text())

    def merchant_client(self) -> FlintClient:
        shop = self.merchant()
        return FlintClient.for_merchant(self.installs_url, shop["id"], shop["secret_key"])

    def log(self, name: str) -> str:
        path = self.state / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="package")
def live_stack() -> Iterator[LiveStack]:
    stack = LiveStack(ROOT / ".flint" / f"e2e-{secrets.token_hex(4)}")
    try:
        started = stack.run(str(STACK), "up", "--no-demo")
        if started.returncode != 0:
            pytest.fail(f"deploy/stack.py up failed:\n{started.stdout[-3000:]}\n{started.stderr[-3000:]}", pytrace=False)
        yield stack
    finally:
        stack.run(str(STACK), "reset", timeout=120)  # stops every process, then deletes the folder
        shutil.rmtree(stack.state, ignore_errors=True)
