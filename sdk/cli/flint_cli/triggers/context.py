"""What a trigger scenario works with: the merchant's client, the sandbox processor, and a
way to say what it is doing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flint_cli import output
from flint_cli.failures import CliError
from flint_cli.session import Session
from flint_cli.triggers.sandbox import Sandbox
from flint_sdk import FlintClient, Order


@dataclass
class TriggerContext:
    session: Session
    merchant: FlintClient
    sandbox: Sandbox
    wait_seconds: float
    quiet: bool = False

    def say(self, line: str) -> None:
        """A line for the person (stdout), unless the result is printed as JSON."""
        if not self.quiet:
            output.out.print(line, markup=False)

    def wait_for_order(self, order_id: str, what: str, done: Callable[[Order], bool]) -> Order:
        """Polls the order until ``done`` holds (the services act asynchronously, on events)."""
        deadline = time.monotonic() + self.wait_seconds
        with output.step(f"Waiting until order {order_id} {what}"):
            while True:
                order = self.merchant.orders.get(order_id)
                if done(order):
                    return order
                if time.monotonic() > deadline:
                    raise CliError(f"order {order_id} was not {what} within {self.wait_seconds:.0f}s "
                                   f"(payment status {order.payment_status}); are the services running? "
                                   "(`flint dev status`)")
                time.sleep(0.2)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    run: Callable[[TriggerContext], dict[str, Any]]
