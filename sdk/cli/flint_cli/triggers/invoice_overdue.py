"""``invoice-overdue``: an invoice whose due date passes. Invoicing refuses due dates in the
past, and marks an open invoice overdue at 00:00 UTC the day after its due date, so the
scenario makes an invoice due today and moves time the way invoicing offers it: one more
invoicing worker on the stack (``deploy/stack.py worker invoicing``) whose clock reads just
past next midnight (``FLINT_INVOICING_CLOCK_OFFSET``). That worker marks the invoice overdue
(``invoice.overdue`` on the order's timeline) and is stopped. Other open invoices of the
stack it finds due at that time (a reminder of tomorrow) are followed up too."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flint_cli import output, stack
from flint_cli.failures import CliError
from flint_cli.triggers.context import Scenario, TriggerContext
from flint_cli.triggers.invoicing import invoiced_order

PAST_MIDNIGHT = 120  # seconds past the next 00:00 UTC the worker's clock reads


def seconds_to_overdue(now: datetime) -> float:
    """How far ahead a clock must read to be ``PAST_MIDNIGHT`` past the next 00:00 UTC."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds() + PAST_MIDNIGHT


def invoice_overdue(trigger: TriggerContext) -> dict[str, Any]:
    order, invoice = invoiced_order(trigger, due_in_days=0, reminders=[], memo="Due on receipt.")
    root, launcher = stack.script()
    offset = seconds_to_overdue(datetime.now(UTC))
    worker = subprocess.Popen([sys.executable, str(launcher), "worker", "invoicing", "--clock-offset", f"{offset:.0f}"],
                              cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    trigger.say(f"Started an invoicing worker whose clock reads {offset / 3600:.1f} hours ahead (past midnight UTC).")
    try:
        overdue = _wait_overdue(trigger, worker, order.id, invoice.id)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
    trigger.say(f"Invoice {overdue.display_number} is overdue (and on order {order.id}'s timeline); the worker "
                "is stopped. The app gets invoice.created, invoice.sent and invoice.overdue.")
    return {"scenario": SCENARIO.name, "order": trigger.merchant.orders.get(order.id), "invoice": overdue}


def _wait_overdue(trigger: TriggerContext, worker: subprocess.Popen, order_id: str, invoice_id: str):
    deadline = time.monotonic() + trigger.wait_seconds
    with output.step(f"Waiting until invoice {invoice_id} is overdue"):
        while True:
            if worker.poll() is not None:
                lines = [line for line in (worker.stderr.read() if worker.stderr else b"").decode().splitlines() if line]
                raise CliError(f"the invoicing worker stopped: {lines[-1] if lines else worker.returncode}")
            invoice = trigger.merchant.invoices.get(invoice_id)
            if invoice.overdue and _on_timeline(trigger, order_id, "invoice.overdue"):
                return invoice
            if time.monotonic() > deadline:
                raise CliError(f"invoice {invoice_id} was not overdue within {trigger.wait_seconds:.0f}s")
            time.sleep(0.3)


def _on_timeline(trigger: TriggerContext, order_id: str, entry_type: str) -> bool:
    return any(entry.type == entry_type for entry in trigger.merchant.orders.iterate_timeline(order_id))


SCENARIO = Scenario("invoice-overdue", "an invoice due today, made overdue by a worker whose clock reads tomorrow "
                    "(invoice.created, invoice.overdue)", invoice_overdue)
