"""The sandbox processor, run as ``python -m flint_payments`` (a service package the CLI does
not import): captures a payment for an order and publishes ``payment.captured``.

It reads the stack's PostgreSQL (its ledger database) and the internal Kafka listener, so it
needs ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` (from the environment or ``stack.env``;
``FLINT_SANDBOX_DATABASE`` names another ledger).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from flint_cli.failures import CliError
from flint_cli.session import Session
from flint_contracts.money import Money

DECLINED_EXIT = 2  # flint_payments' status for a declined card
PASSED_ON = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "FLINT_SANDBOX_DATABASE")


class Sandbox:
    def __init__(self, session: Session, python: str = sys.executable) -> None:
        self._session, self._python = session, python

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in PASSED_ON:
            if value := self._session.setting(name):
                env[name] = value
        missing = [name for name in PASSED_ON[:2] if not env.get(name)]
        if missing:
            raise CliError(f"the sandbox processor needs {' and '.join(missing)}: run inside the checkout whose "
                           "stack is up (`flint dev up`), or set them")
        return env

    def capture(self, *, order_id: str, amount: Money, merchant_id: str, card: str | None = None) -> dict[str, Any]:
        """Captures ``amount`` and publishes the event; returns its envelope (``payment.captured``)."""
        args = ["capture", "--order", order_id, "--amount", str(amount.to_decimal()), "--currency", amount.currency,
                "--merchant", merchant_id, "--publish", *(["--card", card] if card else [])]
        done = subprocess.run([self._python, "-m", "flint_payments", *args], env=self._env(), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)
        if "No module named flint_payments" in done.stderr:
            raise CliError("the sandbox processor (flint_payments) is not installed beside the CLI: run "
                           "`make setup` in the checkout")
        if done.returncode not in (0, DECLINED_EXIT):
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise CliError(f"the sandbox could not take the payment: {lines[-1] if lines else done.returncode}")
        envelope = json.loads(done.stdout)
        if done.returncode == DECLINED_EXIT:
            data = envelope.get("data", {})
            raise CliError(f"the sandbox declined the card: {data.get('failure_code')}: {data.get('failure_message')}")
        return envelope
