"""Follow-up as pure functions: what the worker still has to do for an invoice, and when.

``follow_ups(invoice)`` lists everything planned, soonest first, each with a ``key`` unique
per invoice and step: the worker stores these rows (a unique key makes storing them twice
harmless) and claims the due ones later. ``due_now(invoice, clock)`` says what to do at this
moment; the worker runs exactly that, through the invoice's own methods, which refuse
anything done already. After each change the plan is computed again, so rows that left it
(a reminder sent, an invoice paid) are dropped.

The rules:
- the invoice email goes out first, as soon as the invoice exists (``send``);
- each reminder of the policy goes out once, at ``SEND_TIME`` on its day, only after the
  invoice email, and only when its day comes after the email went out (a reminder older
  than the email would remind of nothing new);
- when several reminders are due at once (the worker was down), only the latest goes out:
  the buyer gets one reminder, not a burst of stale ones;
- the invoice is marked overdue once, from the first moment after its due date;
- nothing is planned for an invoice that is paid, void or uncollectible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from flint_invoicing.domain.clock import Clock, now_of
from flint_invoicing.domain.invoice import Invoice
from flint_invoicing.domain.policy import overdue_moment, reminder_moment

FollowUpAction = Literal["send", "remind", "mark_overdue"]
_RANK = {"send": 0, "mark_overdue": 1, "remind": 2}  # at the same moment: email, then flag, then reminder


@dataclass(frozen=True)
class FollowUp:
    """One planned step. ``reminder_offset`` (days from the due date) names a policy reminder."""

    invoice_id: str
    action: FollowUpAction
    at: datetime
    reminder_offset: int | None = None

    @property
    def key(self) -> str:
        """Unique per invoice and step: ``inv_…:send``, ``inv_…:remind:-3``, ``inv_…:mark_overdue``."""
        if self.action == "remind":
            return f"{self.invoice_id}:remind:{self.reminder_offset:+d}"
        return f"{self.invoice_id}:{self.action}"


def follow_ups(invoice: Invoice) -> list[FollowUp]:
    """Every step still planned for ``invoice``, soonest first (empty once it is not open)."""
    if invoice.status != "open":
        return []
    planned: list[FollowUp] = []
    if invoice.sent_at is None:
        planned.append(FollowUp(invoice.id, "send", invoice.created_at))
    emailed = invoice.sent_at or invoice.created_at
    for offset in invoice.reminder_policy:
        at = reminder_moment(invoice.due_date, offset)
        already = invoice.last_reminder_offset is not None and offset <= invoice.last_reminder_offset
        if not already and at > emailed:
            planned.append(FollowUp(invoice.id, "remind", at, offset))
    if invoice.overdue_at is None:
        planned.append(FollowUp(invoice.id, "mark_overdue", overdue_moment(invoice.due_date)))
    return sorted(planned, key=lambda step: (step.at, _RANK[step.action]))


def due_now(invoice: Invoice, clock: Clock) -> list[FollowUp]:
    """The steps to run now, in order: the email if not sent, overdue if due, then the latest
    due reminder (only once the email went out; the earlier due ones it passes over)."""
    now = now_of(clock)
    due = [step for step in follow_ups(invoice) if step.at <= now]
    steps = [step for step in due if step.action in ("send", "mark_overdue")]
    reminders = [step for step in due if step.action == "remind"]
    if reminders and invoice.sent_at is not None:
        steps.append(reminders[-1])
    return steps


def next_follow_up_at(invoice: Invoice) -> datetime | None:
    """When the next step is due, or None when nothing is planned."""
    planned = follow_ups(invoice)
    return planned[0].at if planned else None
