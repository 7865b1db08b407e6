"""``flint trigger`` scenarios: each makes something happen on the stack, the way it would
happen for real, so the app sees the events it causes.

A scenario is one function taking a :class:`~flint_cli.triggers.context.TriggerContext` and
returning what it made (printed as JSON with ``--json``); adding one is adding a module and
one entry to :data:`SCENARIOS`.
"""

from __future__ import annotations

from flint_cli.triggers import invoice_overdue, invoice_paid, order_paid, partial_refund
from flint_cli.triggers.context import Scenario, TriggerContext

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in (
    order_paid.SCENARIO, partial_refund.SCENARIO, invoice_paid.SCENARIO, invoice_overdue.SCENARIO)}

__all__ = ["SCENARIOS", "Scenario", "TriggerContext"]
