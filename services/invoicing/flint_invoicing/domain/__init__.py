"""The invoice: a pure aggregate that records one event per change.

No I/O lives here. A handler loads an ``Invoice`` (``Invoice.from_dict``), calls one method,
then, in one transaction, stores ``invoice.to_dict()`` guarded by ``invoice.loaded_version``
and writes ``event.envelope()`` of each ``invoice.pull_events()`` to the outbox. The rules
are written down in docs/invoicing.md; keep the two in step.

One idea per module: ``invoice`` (the aggregate), ``values`` (the order it bills),
``policy`` (reminder days), ``schedule`` (follow-up), ``pay_link`` (the hosted link's
token), ``payment`` (the id of a payment attempt), ``clock``, ``events``, ``errors``. Import from the package.
"""

from flint_invoicing.domain.clock import Clock, FixedClock, OffsetClock, SystemClock
from flint_invoicing.domain.errors import (
    ERROR_CODES,
    AlreadyOverdue,
    AmountExceedsBalance,
    AmountMismatch,
    CurrencyMismatch,
    DomainError,
    DueDateInPast,
    InvalidInput,
    InvalidTransition,
    InvoiceNotSent,
    InvoicePaid,
    InvoiceUncollectible,
    InvoiceVoid,
    NothingDue,
    NotYetOverdue,
    PayLinkExpired,
    ReminderAlreadySent,
    ReminderNotDue,
)
from flint_invoicing.domain.events import SOURCE, InvoiceEvent
from flint_invoicing.domain.invoice import PAYABLE, SYSTEM, Invoice, InvoiceStatus, held_by
from flint_invoicing.domain.pay_link import (
    MAX_PAY_LINKS,
    PAY_LINK_DAYS_AFTER_DUE,
    PayLink,
    hosted_url,
    new_pay_token,
    pay_links_expire_at,
    pay_token_hash,
)
from flint_invoicing.domain.payment import payment_id_for
from flint_invoicing.domain.policy import (
    DEFAULT_REMINDER_POLICY,
    SEND_TIME,
    check_reminder_policy,
    overdue_moment,
    reminder_moment,
)
from flint_invoicing.domain.schedule import FollowUp, FollowUpAction, due_now, follow_ups, next_follow_up_at
from flint_invoicing.domain.values import BillableOrder, Customer, InvoiceLine, OrderTotals

__all__ = [
    "DEFAULT_REMINDER_POLICY", "ERROR_CODES", "MAX_PAY_LINKS", "PAYABLE", "PAY_LINK_DAYS_AFTER_DUE", "SEND_TIME",
    "SOURCE", "SYSTEM", "AlreadyOverdue", "AmountExceedsBalance", "AmountMismatch", "BillableOrder", "Clock",
    "CurrencyMismatch", "Customer", "DomainError", "DueDateInPast", "FixedClock", "FollowUp", "FollowUpAction",
    "InvalidInput", "InvalidTransition", "Invoice", "InvoiceEvent", "InvoiceLine", "InvoiceNotSent", "InvoicePaid",
    "InvoiceStatus", "InvoiceUncollectible", "InvoiceVoid", "NotYetOverdue", "NothingDue", "OffsetClock", "OrderTotals",
    "PayLink", "PayLinkExpired", "ReminderAlreadySent", "ReminderNotDue", "SystemClock", "check_reminder_policy",
    "due_now", "follow_ups", "held_by", "hosted_url", "new_pay_token", "next_follow_up_at", "overdue_moment",
    "pay_links_expire_at", "pay_token_hash", "payment_id_for", "reminder_moment",
]
