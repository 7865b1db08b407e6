"""Errors an invoice raises when it refuses a change. Each has a stable, machine-readable
``code`` (the API answers with it) and, where one input is at fault, the ``field``."""

from __future__ import annotations


class DomainError(Exception):
    """A change the invoice refuses. ``code`` is machine-readable, ``field`` names the input."""

    code = "domain_error"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class InvalidInput(DomainError):
    """Malformed input: an empty memo, a reminder policy out of range, a bad id."""

    code = "invalid_input"


class CurrencyMismatch(InvalidInput):
    """An amount in another currency than the order's."""

    code = "currency_mismatch"


class NothingDue(DomainError):
    """The order owes nothing that is not already on an invoice."""

    code = "nothing_due"


class AmountExceedsBalance(DomainError):
    """The amount is more than the balance due less the order's other invoices still payable."""

    code = "amount_exceeds_balance"


class DueDateInPast(InvalidInput):
    """A due date before today (UTC)."""

    code = "due_date_in_past"


class InvalidTransition(DomainError):
    """The invoice's status does not allow this."""

    code = "invalid_transition"


class InvoicePaid(InvalidTransition):
    """The invoice is paid: it cannot be voided, paid again, reminded about or written off."""

    code = "invoice_paid"


class InvoiceVoid(InvalidTransition):
    """The invoice was voided: nothing can happen to it any more."""

    code = "invoice_void"


class InvoiceUncollectible(InvalidTransition):
    """The invoice was written off: it can still be paid or voided, but no longer sent or reminded about."""

    code = "invoice_uncollectible"


class InvoiceNotSent(InvalidTransition):
    """A reminder about an invoice that was never sent."""

    code = "invoice_not_sent"


class ReminderAlreadySent(InvalidTransition):
    """The policy's reminder was sent already (or a later one was)."""

    code = "reminder_already_sent"


class ReminderNotDue(InvalidTransition):
    """The policy's reminder is not due yet, or the policy has no such reminder."""

    code = "reminder_not_due"


class NotYetOverdue(InvalidTransition):
    """Marking overdue an invoice whose due date has not passed."""

    code = "not_yet_overdue"


class AlreadyOverdue(InvalidTransition):
    """The invoice was marked overdue already."""

    code = "already_overdue"


class AmountMismatch(DomainError):
    """A payment that is not exactly what the invoice still asks for."""

    code = "amount_mismatch"


class PayLinkExpired(DomainError):
    """The hosted pay link is past its expiry. The page answers it like an unknown link."""

    code = "pay_link_expired"


ERROR_CODES: dict[str, type[DomainError]] = {
    error.code: error
    for error in (
        InvalidInput, CurrencyMismatch, NothingDue, AmountExceedsBalance, DueDateInPast, InvalidTransition,
        InvoicePaid, InvoiceVoid, InvoiceUncollectible, InvoiceNotSent, ReminderAlreadySent, ReminderNotDue,
        NotYetOverdue, AlreadyOverdue, AmountMismatch, PayLinkExpired,
    )
}  # fmt: skip
"""Every code the domain can raise, for the API's error documentation."""
