"""An invoice's lifecycle as the order keeps it: which status may follow which, so an
older invoice event arriving late changes nothing, and how reminders are counted."""

from __future__ import annotations

import dataclasses

from flint_contracts import event_types as types
from flint_contracts.limits import MAX_URL_LENGTH
from flint_contracts.literals import INVOICE_STATUSES
from flint_contracts.money import Money
from flint_orders.domain.errors import InvalidInput
from flint_orders.domain.event_types import INVOICE_EVENT_TYPES
from flint_orders.domain.validation import check_id, optional_text
from flint_orders.domain.values import Invoice

# Which invoice statuses may follow which. Anything else is an older event arriving late.
INVOICE_NEXT: dict[str, frozenset[str]] = {
    "draft": INVOICE_STATUSES,
    "open": frozenset({"open", "paid", "void", "uncollectible"}),
    "uncollectible": frozenset({"uncollectible", "paid", "void"}),
    "paid": frozenset({"paid"}),
    "void": frozenset({"void"}),
}
assert INVOICE_NEXT.keys() == INVOICE_STATUSES, "every invoice status of the contracts needs its successors"

_SENDING = (types.INVOICE_SENT, types.INVOICE_REMINDER_SENT)


def next_invoice(
    existing: Invoice | None, invoice_id: str, status: str, amount_due: Money, overdue: bool, hosted_url: str | None,
    event_type: str = "",
) -> Invoice | None:
    """The invoice after this event, or None when the event is older than what we hold."""
    if existing is not None and status not in INVOICE_NEXT[existing.status]:
        return None
    return Invoice(
        id=invoice_id,
        status=status,
        amount_due=amount_due,
        overdue=overdue,
        hosted_url=optional_text("hosted_url", hosted_url, MAX_URL_LENGTH) or (existing.hosted_url if existing else None),
        sent=event_type in _SENDING or (existing is not None and existing.sent),
        reminders_sent=existing.reminders_sent if existing else 0,
    )


def count_reminder(
    invoice: Invoice | None, existing: Invoice | None, event_type: str, reminder_number: int | None
) -> Invoice | None:
    if invoice is None or event_type != types.INVOICE_REMINDER_SENT:
        return invoice
    already = existing.reminders_sent if existing else 0
    number = already + 1 if reminder_number is None else reminder_number
    if number <= already:  # this reminder was counted already
        return None
    return dataclasses.replace(invoice, reminders_sent=number)


def check_invoice_event(invoice_id: str, status: str, event_type: str) -> None:
    check_id("invoice_id", invoice_id, "inv")
    if event_type not in INVOICE_EVENT_TYPES:
        raise InvalidInput(f"must be one of {sorted(INVOICE_EVENT_TYPES)}", field="event_type")
    if status not in INVOICE_NEXT:
        raise InvalidInput(f"must be one of {sorted(INVOICE_NEXT)}", field="status")
