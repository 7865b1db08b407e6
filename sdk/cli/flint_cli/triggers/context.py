"""What a trigger scenario works with: the merchant's client, the sandbox processor, and a
way to say what it is doing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flint_cli import output
from flint_cli.failures import CliError
from flint_cli.session import Session
from flint_cli.triggers.sandbox import Sandbox
from flint_sdk import ApiError, FlintClient, Order

T = TypeVar("T")


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

    def once_known(self, what: str, call: Callable[[], T], not_yet: Callable[[ApiError], bool]) -> T:
        """``call()``, again while it fails with an error ``not_yet`` says will pass: a service
        that learns of an order from its events (refunds, invoicing) knows it a moment after
        the orders service answered. Give ``call`` a fixed idempotency key, so it acts once."""
        deadline = time.monotonic() + self.wait_seconds
        with output.step(f"Waiting until {what}"):
            while True:
                try:
                    return call()
                except ApiError as error:
                    if not not_yet(error) or time.monotonic() > deadline:
                        raise
                time.sleep(0.2)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    run: Callable[[TriggerContext], dict[str, Any]]
