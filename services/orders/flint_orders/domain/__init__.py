"""The order record: a pure aggregate that writes every change onto its timeline.

No I/O lives here. A handler loads an ``Order`` (``Order.from_dict``), calls one method,
then, in one transaction, stores ``order.to_dict()`` guarded by ``order.loaded_version``,
appends ``order.pull_new_entries()`` to the timeline table, and writes an outbox row for
each entry whose ``event_type`` is set. The money rules implemented here are written down
in docs/orders.md ("Money rules"); keep the two in step.

Consumed payment, refund and invoice events arrive as plain arguments (the contract models
live in flint_contracts.events and are mapped by the service). The package uses the
contracts' names, statuses, reasons and limits (``flint_contracts.literals``, ``.limits``,
``.timeline``) and lists none of its own; its values are plain dataclasses, and
``Order.to_dict()`` writes exactly ``flint_contracts.order.OrderRecord``.

One idea per module: ``order`` (the aggregate), ``values`` (value objects), ``timeline``
(entries), ``rules`` (money rules), ``refund_context``, ``invoices`` (invoice lifecycle),
``validation`` (input checks), ``errors``, ``event_types``. Import from the package.
"""

from flint_orders.domain.errors import (
    ConflictingEvent,
    CurrencyMismatch,
    DomainError,
    InvalidInput,
    InvalidTransition,
    RefundRefused,
    TotalsMismatch,
)
from flint_orders.domain.event_types import (
    INVOICE_EVENT_TYPES,
    ORDER_EVENT_TYPES,
    TIMELINE_ONLY_TYPES,
    TIMELINE_TYPES,
)
from flint_orders.domain.order import Order
from flint_orders.domain.refund_context import (
    LineRefundable,
    PaymentRefundable,
    RefundContext,
    Refusal,
)
from flint_orders.domain.rules import payment_status_for
from flint_orders.domain.timeline import TimelineEntry
from flint_orders.domain.validation import normalize_tag
from flint_orders.domain.values import (
    SYSTEM,
    Actor,
    Amounts,
    Customer,
    Discount,
    Invoice,
    LineItem,
    NewLine,
    Note,
    Payment,
    Refund,
    RefundDetails,
    RefundLine,
    RefundPart,
    Totals,
)

__all__ = [
    "INVOICE_EVENT_TYPES", "ORDER_EVENT_TYPES", "SYSTEM", "TIMELINE_ONLY_TYPES", "TIMELINE_TYPES",
    "Actor", "Amounts", "ConflictingEvent", "CurrencyMismatch", "Customer", "Discount",
    "DomainError", "InvalidInput", "InvalidTransition", "Invoice", "LineItem",
    "LineRefundable", "NewLine", "Note", "Order", "Payment", "PaymentRefundable",
    "Refund", "RefundContext", "RefundDetails", "RefundLine", "RefundPart", "RefundRefused",
    "Refusal", "TimelineEntry", "Totals", "TotalsMismatch", "normalize_tag",
    "payment_status_for",
]
