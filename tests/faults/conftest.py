"""The fault suite (pytest marker ``faults``): each test runs a Kafka, a PostgreSQL and the
services of its own (tests/faults/stack.py), breaks one of them under a bounded load, heals
it, and counts from outside (tests/faults/ledger.py). The short version runs in `make test`;
`make faults` runs the long one (``FLINT_FAULTS_LONG=1``: more orders, Kafka paused 20 s).
At the end of the session every fault's row is printed as one table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.faults.ledger import Outcome

LONG = os.environ.get("FLINT_FAULTS_LONG", "") not in ("", "0")
_OUTCOMES: list[Outcome] = []


@dataclass(frozen=True)
class Sizes:
    """How big the load and the faults are, short or long."""

    orders: int
    rate: float
    kafka_pause: float
    postgres_down: float


SIZES = Sizes(orders=600, rate=20.0, kafka_pause=20.0, postgres_down=8.0) if LONG else \
    Sizes(orders=100, rate=20.0, kafka_pause=4.0, postgres_down=3.0)


@pytest.fixture
def sizes() -> Sizes:
    return SIZES


@pytest.fixture
def record():
    """Keep a fault's outcome for the session's table, then assert nothing was broken."""
    def keep(outcome: Outcome) -> None:
        _OUTCOMES.append(outcome)
        assert not outcome.broken, f"{outcome.fault}: {outcome.broken}; {outcome.notes}"

    return keep


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook
    if not _OUTCOMES:
        return
    header = ("fault", "acked", "stored", "lost", "extra", "gaps", "ev lost", "ev twice", "copies", "order",
              "paid/refunded", "money", "inv paid", "inv twice", "inv wrong", "webhooks", "wh lost", "wh copies",
              "wh order", "wh bad sig", "503s", "5xx", "drain s")
    rows = [header] + [(o.fault, o.acknowledged, o.stored, o.lost, o.extra, o.number_gaps, o.events_lost,
                        o.events_applied_twice, o.redelivered_copies, o.out_of_order,
                        f"{o.notes.get('paid_orders', 0)}/{o.notes.get('refunds_succeeded', 0)}", o.money_mismatches,
                        o.invoices_paid, o.invoices_charged_twice, o.invoice_mismatches, o.webhooks_received,
                        o.webhooks_lost, o.webhook_copies, o.webhooks_out_of_order, o.webhooks_unverified,
                        o.unavailable_503, o.server_errors, f"{o.drain_seconds:.1f}") for o in _OUTCOMES]
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    terminalreporter.section(f"fault suite ({'long' if LONG else 'short'})")
    for row in rows:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    for o in _OUTCOMES:
        if o.drain_seconds >= 5 and o.notes.get("drain_waited_for"):
            terminalreporter.write_line(f"{o.fault}: the drain waited last for {', '.join(o.notes['drain_waited_for'])}")
