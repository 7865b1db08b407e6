"""The order record: a pure aggregate that writes every change onto its timeline.

No I/O lives here. A handler loads an ``Order`` (``Order.from_dict``), calls one method,
then, in one transaction, stores ``order.to_dict()`` guarded by ``order.loaded_version``,
appends ``order.pull_new_entries()`` to the timeline table, and writes an outbox row for
each entry whose ``event_type`` is set. The money rules implemented here are written down
in docs/orders.md ("Money rules"); keep the two in step.

Consumed payment, refund and invoice events arrive as plain arguments (the contract models
live in flint_contracts.events and are mapped by the service), so this module depends on
nothing but Money and ids.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, computed_field

from flint_contracts.ids import PREFIXES, is_id, new_id
from flint_contracts.money import Money, currency_exponent
from flint_contracts.money import total as money_total

OrderStatus = Literal["open", "completed", "canceled"]
PaymentStatus = Literal["unpaid", "partially_paid", "paid", "partially_refunded", "refunded", "voided"]
ActorType = Literal["merchant", "app", "system", "buyer"]
RefundStatus = Literal["pending", "succeeded", "failed"]
InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]

PAYMENT_METHODS = frozenset({"card", "invoice", "bank_transfer", "other"})
REFUND_REASONS = frozenset({"requested_by_customer", "duplicate", "fraudulent", "defective", "other"})
MAX_TAGS = 100
MAX_TAG_LENGTH = 40
MAX_NOTE_LENGTH = 5000
MAX_METADATA_BYTES = 16_384

# Types published on flint.orders.events.v1 (PRODUCT.md, "Events to plugins"), with labels.
ORDER_EVENT_TYPES: dict[str, str] = {
    "order.created": "Order created",
    "order.updated": "Order updated",
    "order.paid": "Order paid in full",
    "order.partially_paid": "Payment captured, a balance remains",
    "order.refunded": "Order fully refunded",
    "order.partially_refunded": "Order partially refunded",
    "order.canceled": "Order canceled",
    "order.note_added": "Note added",
    "order.metadata_updated": "App metadata updated",
}
# Types that only appear on the timeline: their source service publishes the event itself.
TIMELINE_ONLY_TYPES: dict[str, str] = {
    "payment.failed": "Payment failed",
    "refund.created": "Refund requested",
    "refund.failed": "Refund failed",
    "invoice.created": "Invoice created",
    "invoice.sent": "Invoice sent",
    "invoice.reminder_sent": "Invoice reminder sent",
    "invoice.overdue": "Invoice overdue",
    "invoice.paid": "Invoice paid",
    "invoice.voided": "Invoice voided",
    "invoice.marked_uncollectible": "Invoice marked uncollectible",
    "event.rejected": "Event rejected",
}
TIMELINE_TYPES: dict[str, str] = {**ORDER_EVENT_TYPES, **TIMELINE_ONLY_TYPES}
INVOICE_EVENT_TYPES = frozenset(t for t in TIMELINE_ONLY_TYPES if t.startswith("invoice."))

# Which invoice statuses may follow which. Anything else is an older event arriving late.
_INVOICE_NEXT: dict[str, frozenset[str]] = {
    "draft": frozenset({"draft", "open", "paid", "void", "uncollectible"}),
    "open": frozenset({"open", "paid", "void", "uncollectible"}),
    "uncollectible": frozenset({"uncollectible", "paid", "void"}),
    "paid": frozenset({"paid"}),
    "void": frozenset({"void"}),
}


# --- errors -------------------------------------------------------------------------------


class DomainError(Exception):
    """A change the order refuses. ``code`` is machine-readable, ``field`` names the input."""

    code = "domain_error"

    def __init__(self, reason: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    """Malformed input: a negative price, a fractional quantity, an empty note."""

    code = "invalid_input"


class TotalsMismatch(InvalidInput):
    """The caller's expected total differs from what the lines add up to."""

    code = "totals_mismatch"


class CurrencyMismatch(DomainError):
    """An amount in another currency than the order's. For a consumed event it never applies."""

    code = "currency_mismatch"


class InvalidTransition(DomainError):
    """The order's status does not allow this (cancel a completed order, complete a canceled one)."""

    code = "invalid_transition"


class RefundRefused(DomainError):
    """A refund that would take more than is left: overall, on a line, on shipping or a payment."""

    code = "refund_refused"


class ConflictingEvent(DomainError):
    """An event that contradicts a final state (a refund that failed, then succeeded)."""

    code = "conflicting_event"


# --- value objects ------------------------------------------------------------------------


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Value):
    """Who made a change: a merchant user, an app (by app id), the system, or the buyer."""

    type: ActorType
    id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(type="system")

    @classmethod
    def app(cls, app_id: str) -> Actor:
        return cls(type="app", id=app_id)


SYSTEM = Actor.system()


class Customer(_Value):
    email: str
    name: str | None = None


@dataclass(frozen=True)
class NewLine:
    """A line item as a caller asks for it; ``Order.create`` validates it and gives it an id."""

    title: str
    quantity: int
    unit_price: Money
    tax: Money | None = None
    sku: str | None = None


class LineItem(_Value):
    # `total` is computed; it is in to_dict() for readers and dropped again on load.
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    sku: str | None
    title: str
    quantity: int
    unit_price: Money
    tax: Money

    @computed_field
    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity + self.tax


class Discount(_Value):
    code: str
    amount: Money


class Totals(_Value):
    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money


class Amounts(_Value):
    total: Money
    captured: Money
    refunded: Money
    refund_pending: Money
    net_paid: Money
    balance_due: Money
    credit: Money


class Payment(_Value):
    id: str
    amount: Money
    method: str
    status: Literal["captured", "failed"]
    invoice_id: str | None = None
    at: AwareDatetime
    failure_code: str | None = None
    failure_message: str | None = None


class RefundLine(_Value):
    line_item_id: str
    quantity: int = Field(ge=0)
    amount: Money


@dataclass(frozen=True)
class RefundDetails:
    """What every refund event (created, succeeded, failed) carries about the refund."""

    refund_id: str
    amount: Money
    lines: tuple[RefundLine, ...] = ()
    shipping: Money | None = None
    payment_id: str | None = None
    reason: str = "other"
    note: str | None = None
    actor: Actor = SYSTEM


class Refund(_Value):
    id: str
    status: RefundStatus
    amount: Money
    lines: list[RefundLine]
    shipping: Money
    payment_id: str | None = None
    reason: str
    note: str | None = None
    actor: Actor
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processor_reference: str | None = None
    failure_reason: str | None = None


class Invoice(_Value):
    id: str
    status: InvoiceStatus
    amount_due: Money
    overdue: bool = False
    hosted_url: str | None = None
    reminders_sent: int = 0


class Note(_Value):
    id: str
    body: str
    actor: Actor
    at: AwareDatetime


class LineRefundable(_Value):
    line_item_id: str
    sku: str | None
    title: str
    quantity: int
    refundable_quantity: int
    total: Money
    refundable_amount: Money


class PaymentRefundable(_Value):
    payment_id: str
    method: str
    captured: Money
    refunded_or_pending: Money
    refundable: Money


class Refusal(_Value):
    code: str
    message: str


class RefundContext(_Value):
    """What can still be refunded, and why a refund would be refused right now."""

    order_id: str
    currency: str
    captured: Money
    refunded: Money
    pending: Money
    max_refundable: Money
    shipping_refundable: Money
    lines: list[LineRefundable]
    payments: list[PaymentRefundable]
    refusal_reasons: list[Refusal]


class TimelineEntry(_Value):
    """One change of one order. ``sequence`` is gap-free per order and equals the order's
    version after the change. ``changes`` maps a field to ``{"from": old, "to": new}``."""

    order_id: str
    sequence: int = Field(ge=1)
    type: str
    at: AwareDatetime
    actor: Actor
    changes: dict[str, dict[str, Any]]
    data: dict[str, Any]

    @property
    def version(self) -> int:
        return self.sequence

    @property
    def previous(self) -> dict[str, Any]:
        """Previous values of the changed fields, as order events carry them."""
        return {name: change["from"] for name, change in self.changes.items()}

    @property
    def event_type(self) -> str | None:
        """The order event this entry is published as, or None when it stays on the timeline."""
        if self.type in ORDER_EVENT_TYPES:
            return self.type
        if any(_is_order_level(name) for name in self.changes):
            return "order.updated"
        return None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimelineEntry:
        return cls.model_validate(data)


# --- the aggregate ------------------------------------------------------------------------


class Order(BaseModel):
    """The order record. Change it only through its methods: each validates fully before it
    touches anything, bumps ``version`` and appends exactly one timeline entry. Methods that
    receive a duplicate or stale event change nothing and return None."""

    # Computed totals, amounts and payment_status come back from storage and are recomputed.
    model_config = ConfigDict(extra="ignore")

    id: str
    merchant_id: str
    number: int
    customer: Customer
    currency: str
    line_items: list[LineItem]
    shipping: Money
    discounts: list[Discount] = Field(default_factory=list)
    status: OrderStatus = "open"
    payments: list[Payment] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Normalized, sorted, unique.")
    metadata: dict[str, dict[str, Any]] = Field(default_factory=dict, description="app id -> namespace")
    version: int = 0
    created_at: AwareDatetime
    updated_at: AwareDatetime
    canceled_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    completed_at: AwareDatetime | None = None

    _new_entries: list[TimelineEntry] = PrivateAttr(default_factory=list)

    # --- creation -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        merchant_id: str,
        number: int,
        customer: Customer,
        currency: str,
        lines: Sequence[NewLine],
        shipping: Money | None = None,
        discounts: Sequence[Discount] = (),
        expected_total: Money | None = None,
        actor: Actor = SYSTEM,
        at: datetime | None = None,
        order_id: str | None = None,
    ) -> Order:
        """A new open order. Raises InvalidInput, CurrencyMismatch or TotalsMismatch."""
        _check_new_order(merchant_id, number, customer, currency, lines)
        if order_id is not None:
            _check_id("order_id", order_id, "ord")
        shipping = Money.zero(currency) if shipping is None else shipping
        _check_money("shipping", shipping, currency)
        for index, discount in enumerate(discounts):
            _check_discount(f"discounts[{index}]", discount, currency)
        at = _aware(at)
        order = cls(
            id=order_id or new_id("ord"),
            merchant_id=merchant_id,
            number=number,
            customer=Customer(email=customer.email.strip(), name=customer.name),
            currency=currency,
            line_items=[_line_item(f"lines[{i}]", line, currency) for i, line in enumerate(lines)],
            shipping=shipping,
            discounts=list(discounts),
            created_at=at,
            updated_at=at,
        )
        _check_totals(order.totals, expected_total, currency)
        order._record("order.created", actor, at, {}, {"number": number})
        return order

    # --- derived money (docs/orders.md, "Money rules") ------------------------------------

    @computed_field
    @property
    def totals(self) -> Totals:
        subtotal = self._sum(line.unit_price * line.quantity for line in self.line_items)
        tax = self._sum(line.tax for line in self.line_items)
        discount = self._sum(d.amount for d in self.discounts)
        total = subtotal + tax + self.shipping - discount
        return Totals(subtotal=subtotal, tax=tax, shipping=self.shipping, discount=discount, total=total)

    @computed_field
    @property
    def amounts(self) -> Amounts:
        captured = self._sum(p.amount for p in self.payments if p.status == "captured")
        refunded = self._sum(r.amount for r in self.refunds if r.status == "succeeded")
        pending = self._sum(r.amount for r in self.refunds if r.status == "pending")
        total = self.totals.total
        # A canceled order owes nothing, so whatever it still holds is the buyer's credit.
        owed = Money.zero(self.currency) if self.status == "canceled" else total
        net_paid = captured - refunded
        return Amounts(
            total=total,
            captured=captured,
            refunded=refunded,
            refund_pending=pending,
            net_paid=net_paid,
            balance_due=_not_below_zero(owed - net_paid),
            credit=_not_below_zero(net_paid - owed),
        )

    @computed_field
    @property
    def payment_status(self) -> PaymentStatus:
        amounts = self.amounts
        return payment_status_for(
            total=amounts.total.amount,
            captured=amounts.captured.amount,
            refunded=amounts.refunded.amount,
            canceled=self.status == "canceled",
        )

    # --- payments ---------------------------------------------------------------------------

    def record_payment_captured(
        self,
        payment_id: str,
        amount: Money,
        *,
        method: str = "card",
        invoice_id: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> TimelineEntry | None:
        """A captured payment. Emits order.paid, order.partially_paid or order.updated.
        A payment id already captured is a duplicate: nothing changes, returns None."""
        existing = self._payment(payment_id)
        if existing is not None and existing.status == "captured":
            return None
        payment = self._new_payment(payment_id, amount, method, invoice_id, at, status="captured")
        before = self._tracked()
        self._put_payment(payment)
        kind = _capture_entry_type(before["payment_status"], self.payment_status)
        return self._record(kind, actor, payment.at, before, {"payment": _json(payment)})

    def record_payment_failed(
        self,
        payment_id: str,
        amount: Money,
        *,
        method: str = "card",
        failure_code: str | None = None,
        failure_message: str | None = None,
        invoice_id: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> TimelineEntry | None:
        """A failed payment attempt: on the timeline only. A payment id already known (failed
        before, or captured since) makes this a duplicate or stale event: returns None."""
        if self._payment(payment_id) is not None:
            return None
        payment = self._new_payment(payment_id, amount, method, invoice_id, at, status="failed")
        payment = payment.model_copy(update={"failure_code": failure_code, "failure_message": failure_message})
        before = self._tracked()
        self.payments.append(payment)
        return self._record("payment.failed", actor, payment.at, before, {"payment": _json(payment)})

    # --- refunds ----------------------------------------------------------------------------

    def record_refund_created(self, refund: RefundDetails, *, at: datetime | None = None) -> TimelineEntry | None:
        """A refund requested: its amount is held in refund_pending until it succeeds or fails.
        Raises RefundRefused when it would take more than is still refundable."""
        return self._record_refund(refund, "pending", _aware(at), {})

    def record_refund_succeeded(
        self, refund: RefundDetails, *, at: datetime | None = None, processor_reference: str | None = None
    ) -> TimelineEntry | None:
        """Money went back. Emits order.refunded or order.partially_refunded with the refund."""
        extra = {"processor_reference": processor_reference}
        return self._record_refund(refund, "succeeded", _aware(at), extra)

    def record_refund_failed(
        self, refund: RefundDetails, *, at: datetime | None = None, failure_reason: str | None = None
    ) -> TimelineEntry | None:
        """The refund did not happen: the pending amount is released."""
        return self._record_refund(refund, "failed", _aware(at), {"failure_reason": failure_reason})

    # --- invoices ---------------------------------------------------------------------------

    def record_invoice(
        self,
        invoice_id: str,
        status: str,
        amount_due: Money,
        *,
        event_type: str,
        at: datetime | None = None,
        overdue: bool = False,
        hosted_url: str | None = None,
        reminder_number: int | None = None,
        actor: Actor = SYSTEM,
    ) -> TimelineEntry | None:
        """An invoice event (invoice.created, .sent, .paid ...), kept as id -> status on the
        order. Money moves only through payments, so invoices never change the balance."""
        _check_invoice_event(invoice_id, status, event_type)
        self._require_currency("amount_due", amount_due)
        existing = self._invoice(invoice_id)
        invoice = _next_invoice(existing, invoice_id, status, amount_due, overdue, hosted_url)
        invoice = _count_reminder(invoice, existing, event_type, reminder_number)
        if invoice is None or invoice == existing:
            return None
        before = self._tracked()
        self._put_invoice(invoice)
        data = {"invoice": _json(invoice), "reminder_number": reminder_number}
        return self._record(event_type, actor, _aware(at), before, data)

    # --- notes, tags, metadata ----------------------------------------------------------------

    def add_note(self, body: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        body = _text("body", body, MAX_NOTE_LENGTH)
        note = Note(id=new_id("not"), body=body, actor=actor, at=_aware(at))
        before = self._tracked()
        self.notes.append(note)
        return self._record("order.note_added", actor, note.at, before, {"note": _json(note)})

    def add_tag(self, tag: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry | None:
        """Adds a normalized tag; an existing tag changes nothing and returns None."""
        tag = normalize_tag(tag)
        if tag in self.tags:
            return None
        if len(self.tags) >= MAX_TAGS:
            raise InvalidInput(f"an order holds at most {MAX_TAGS} tags", field="tag")
        return self._set_tags(sorted({*self.tags, tag}), actor, at, {"added": tag})

    def remove_tag(self, tag: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry | None:
        """Removes a tag; a tag the order does not have changes nothing and returns None."""
        tag = normalize_tag(tag)
        if tag not in self.tags:
            return None
        return self._set_tags([t for t in self.tags if t != tag], actor, at, {"removed": tag})

    def set_metadata(self, app_id: str, values: dict[str, Any], *, at: datetime | None = None) -> TimelineEntry | None:
        """Replaces the app's own namespace (an empty dict removes it). Only that app may call
        this; the service checks the token. Unchanged values return None."""
        _check_id("app_id", app_id, "app")
        values = _metadata_values(values)
        if values == self.metadata.get(app_id, {}):
            return None
        before = self._tracked()
        self.metadata = {k: v for k, v in self.metadata.items() if k != app_id}
        if values:
            self.metadata[app_id] = values
        data = {"app_id": app_id, "metadata": copy.deepcopy(values)}
        return self._record("order.metadata_updated", Actor.app(app_id), _aware(at), before, data)

    # --- lifecycle --------------------------------------------------------------------------

    def cancel(self, reason: str = "other", *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Cancels an open order. Nothing is owed afterwards: balance_due becomes 0, money kept
        becomes credit, and with nothing captured payment_status becomes voided."""
        self._require_open("cancel")
        reason = _text("reason", reason, 500)
        at = _aware(at)
        before = self._tracked()
        self.status, self.canceled_at, self.cancel_reason = "canceled", at, reason
        return self._record("order.canceled", actor, at, before, {"reason": reason})

    def complete(self, *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Marks an open order done (fulfilled). Payments and refunds may still arrive."""
        self._require_open("complete")
        at = _aware(at)
        before = self._tracked()
        self.status, self.completed_at = "completed", at
        return self._record("order.updated", actor, at, before, {})

    def record_rejected_event(
        self, event_type: str, event_id: str, reason: str, *, at: datetime | None = None
    ) -> TimelineEntry:
        """Notes on the timeline that an event was dead-lettered, so the order explains itself."""
        data = {"event_type": event_type, "event_id": event_id, "reason": reason}
        return self._record("event.rejected", SYSTEM, _aware(at), self._tracked(), data)

    # --- refund context ---------------------------------------------------------------------

    def refund_context(self) -> RefundContext:
        """Captured, refunded, pending; what is still refundable overall, per line, on
        shipping and per payment; and the reasons a refund would be refused right now."""
        amounts = self.amounts
        holding = [r for r in self.refunds if r.status != "failed"]
        max_refundable = amounts.captured - amounts.refunded - amounts.refund_pending
        return RefundContext(
            order_id=self.id,
            currency=self.currency,
            captured=amounts.captured,
            refunded=amounts.refunded,
            pending=amounts.refund_pending,
            max_refundable=max_refundable,
            shipping_refundable=self.shipping - self._sum(r.shipping for r in holding),
            lines=[self._line_refundable(line, holding) for line in self.line_items],
            payments=[self._payment_refundable(p, holding) for p in self.payments if p.status == "captured"],
            refusal_reasons=self._refusal_reasons(amounts, max_refundable),
        )

    # --- collecting changes -----------------------------------------------------------------

    @property
    def new_entries(self) -> tuple[TimelineEntry, ...]:
        """Timeline entries recorded since the order was created or loaded, oldest first."""
        return tuple(self._new_entries)

    @property
    def pending_events(self) -> tuple[TimelineEntry, ...]:
        """The new entries that go to the outbox as order events (``entry.event_type``)."""
        return tuple(e for e in self._new_entries if e.event_type is not None)

    @property
    def loaded_version(self) -> int:
        """The version the order had when loaded: the optimistic-concurrency guard for saving."""
        return self.version - len(self._new_entries)

    def pull_new_entries(self) -> list[TimelineEntry]:
        """Hands the new entries over (to write them) and forgets them."""
        entries, self._new_entries = self._new_entries, []
        return entries

    # --- storage ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record; money as {"amount", "currency"}; includes totals, amounts and
        payment_status for columns and readers. The timeline is stored separately."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        return cls.model_validate(data)

    # --- private: recording -------------------------------------------------------------------

    def _record(
        self, kind: str, actor: Actor, at: datetime, before: dict[str, Any], data: dict[str, Any]
    ) -> TimelineEntry:
        if kind not in TIMELINE_TYPES:  # a typo here would publish an unknown event type
            raise ValueError(f"unknown timeline type {kind!r}")
        self.version += 1
        self.updated_at = max(self.updated_at, at)
        entry = TimelineEntry(
            order_id=self.id,
            sequence=self.version,
            type=kind,
            at=at,
            actor=actor,
            changes=_diff(before, self._tracked()),
            data=data,
        )
        self._new_entries.append(entry)
        return entry

    def _tracked(self) -> dict[str, Any]:
        """The fields whose before/after values a timeline entry shows, flattened and JSON-ready."""
        amounts = self.amounts
        fields: dict[str, Any] = {
            "status": self.status,
            "payment_status": self.payment_status,
            **{f"amounts.{name}": _json(getattr(amounts, name)) for name in _TRACKED_AMOUNTS},
            "tags": list(self.tags),
        }
        # Copied so an entry never shares a dict with the order it describes.
        fields |= {f"metadata.{app}": copy.deepcopy(values) for app, values in self.metadata.items()}
        fields |= {f"payments.{p.id}.status": p.status for p in self.payments}
        fields |= {f"refunds.{r.id}.status": r.status for r in self.refunds}
        fields |= {f"notes.{n.id}": n.body for n in self.notes}
        for invoice in self.invoices:
            fields |= {f"invoices.{invoice.id}.{k}": v for k, v in _json(invoice).items() if k != "id"}
        return fields

    # --- private: payments and refunds ----------------------------------------------------------

    def _new_payment(
        self, payment_id: str, amount: Money, method: str, invoice_id: str | None, at: datetime | None, *, status: str
    ) -> Payment:
        _check_id("payment_id", payment_id, "pay")
        if invoice_id is not None:
            _check_id("invoice_id", invoice_id, "inv")
        self._require_currency("amount", amount)
        _require_positive("amount", amount)
        if method not in PAYMENT_METHODS:
            raise InvalidInput(f"must be one of {sorted(PAYMENT_METHODS)}", field="method")
        return Payment(id=payment_id, amount=amount, method=method, status=status, invoice_id=invoice_id, at=_aware(at))

    def _record_refund(
        self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict[str, Any]
    ) -> TimelineEntry | None:
        existing = self._refund(details.refund_id)
        if existing is None:
            refund = self._new_refund(details, status, at, extra)
        else:
            refund = _advance_refund(existing, status, at, extra)
            if refund is None:
                return None
        before = self._tracked()
        self._put_refund(refund)
        kind = _refund_entry_type(status, self.payment_status)
        return self._record(kind, details.actor, at, before, {"refund": _json(refund)})

    def _new_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        refund = self._build_refund(details, status, at, extra)
        if status != "failed":  # a failed refund holds no money, so it needs no room
            self._check_refundable(refund)
        return refund

    def _build_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        _check_id("refund_id", details.refund_id, "rfd")
        shipping = Money.zero(self.currency) if details.shipping is None else details.shipping
        self._require_currency("amount", details.amount)
        _require_positive("amount", details.amount)
        _check_money("shipping", shipping, self.currency)
        for index, line in enumerate(details.lines):
            _check_money(f"lines[{index}].amount", line.amount, self.currency)
        if self._sum(line.amount for line in details.lines) + shipping > details.amount:
            raise InvalidInput(f"lines and shipping add up to more than the refund's {details.amount}", field="amount")
        if details.reason not in REFUND_REASONS:
            raise InvalidInput(f"must be one of {sorted(REFUND_REASONS)}", field="reason")
        return Refund(
            id=details.refund_id, status=status, amount=details.amount, lines=list(details.lines),
            shipping=shipping, payment_id=details.payment_id, reason=details.reason, note=details.note,
            actor=details.actor, created_at=at, updated_at=at, **extra,
        )  # fmt: skip

    def _check_refundable(self, refund: Refund) -> None:
        context = self.refund_context()
        if refund.amount > context.max_refundable:
            raise RefundRefused(
                f"{refund.amount} is more than the {context.max_refundable} still refundable "
                "(captured minus refunded minus pending)",
                field="amount",
                code="refund_exceeds_captured",
            )
        _check_refund_lines(refund, context)
        if refund.shipping > context.shipping_refundable:
            raise RefundRefused(
                f"{refund.shipping} is more than the {context.shipping_refundable} shipping still refundable",
                field="shipping",
                code="shipping_exceeded",
            )
        if refund.payment_id is not None:
            _check_refund_payment(refund, context)

    def _line_refundable(self, line: LineItem, holding: list[Refund]) -> LineRefundable:
        taken = [rl for r in holding for rl in r.lines if rl.line_item_id == line.id]
        return LineRefundable(
            line_item_id=line.id,
            sku=line.sku,
            title=line.title,
            quantity=line.quantity,
            refundable_quantity=line.quantity - sum(rl.quantity for rl in taken),
            total=line.total,
            refundable_amount=line.total - self._sum(rl.amount for rl in taken),
        )

    def _payment_refundable(self, payment: Payment, holding: list[Refund]) -> PaymentRefundable:
        taken = self._sum(r.amount for r in holding if r.payment_id == payment.id)
        return PaymentRefundable(
            payment_id=payment.id,
            method=payment.method,
            captured=payment.amount,
            refunded_or_pending=taken,
            refundable=payment.amount - taken,
        )

    def _refusal_reasons(self, amounts: Amounts, max_refundable: Money) -> list[Refusal]:
        if amounts.captured.amount == 0:
            if self.status == "canceled":
                return [Refusal(code="order_voided", message="The order was canceled before any payment was captured.")]
            return [Refusal(code="nothing_captured", message="No payment has been captured on this order yet.")]
        if max_refundable.amount > 0:
            return []
        if amounts.refund_pending.amount == 0:
            return [Refusal(code="fully_refunded", message="Everything captured has been refunded.")]
        return [
            Refusal(
                code="pending_refunds_hold_remainder",
                message=f"Pending refunds of {amounts.refund_pending} hold everything not yet refunded.",
            )
        ]

    # --- private: lookups and small rules ----------------------------------------------------------

    def _sum(self, amounts: Any) -> Money:
        return money_total(list(amounts), self.currency)

    def _require_currency(self, field: str, money: Money) -> None:
        _same_currency(field, money, self.currency)

    def _require_open(self, action: str) -> None:
        if self.status != "open":
            raise InvalidTransition(f"cannot {action} an order that is {self.status}", field="status")

    def _payment(self, payment_id: str) -> Payment | None:
        return next((p for p in self.payments if p.id == payment_id), None)

    def _refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.id == refund_id), None)

    def _invoice(self, invoice_id: str) -> Invoice | None:
        return next((i for i in self.invoices if i.id == invoice_id), None)

    def _put_payment(self, payment: Payment) -> None:
        self.payments = _replace_or_append(self.payments, payment)

    def _put_refund(self, refund: Refund) -> None:
        self.refunds = _replace_or_append(self.refunds, refund)

    def _put_invoice(self, invoice: Invoice) -> None:
        self.invoices = _replace_or_append(self.invoices, invoice)

    def _set_tags(self, tags: list[str], actor: Actor, at: datetime | None, data: dict) -> TimelineEntry:
        before = self._tracked()
        self.tags = tags
        return self._record("order.updated", actor, _aware(at), before, data)


_TRACKED_AMOUNTS = ("captured", "refunded", "refund_pending", "balance_due", "credit")


# --- the rules as pure functions ------------------------------------------------------------------


def payment_status_for(*, total: int, captured: int, refunded: int, canceled: bool) -> PaymentStatus:
    """docs/orders.md, "Money rules": the first rule that matches wins."""
    if canceled and captured == 0:
        return "voided"
    if refunded > 0 and refunded >= captured:
        return "refunded"
    if refunded > 0:
        return "partially_refunded"
    if captured >= total:  # a zero-total order is therefore paid from the start
        return "paid"
    if captured > 0:
        return "partially_paid"
    return "unpaid"


def normalize_tag(tag: str) -> str:
    """Tags compare case- and whitespace-insensitively: " VIP  Customer " -> "vip customer"."""
    if not isinstance(tag, str):
        raise InvalidInput("must be a string", field="tag")
    normalized = " ".join(tag.split()).lower()
    if not 1 <= len(normalized) <= MAX_TAG_LENGTH:
        raise InvalidInput(f"must be 1 to {MAX_TAG_LENGTH} characters", field="tag")
    return normalized


def _capture_entry_type(before: str, after: str) -> str:
    if after == "paid":
        return "order.paid" if before != "paid" else "order.updated"  # overpaying is no new "paid"
    if after == "partially_paid":
        return "order.partially_paid"
    return "order.updated"


def _refund_entry_type(status: RefundStatus, payment_status: str) -> str:
    if status == "pending":
        return "refund.created"
    if status == "failed":
        return "refund.failed"
    return "order.refunded" if payment_status == "refunded" else "order.partially_refunded"


def _advance_refund(existing: Refund, status: RefundStatus, at: datetime, extra: dict) -> Refund | None:
    """pending -> succeeded | failed. The same status again is a duplicate, and `created`
    after a final state arrived late: both return None. Two final states contradict."""
    if status == existing.status or status == "pending":
        return None
    if existing.status != "pending":
        raise ConflictingEvent(f"refund {existing.id} already {existing.status}, cannot become {status}")
    return existing.model_copy(update={"status": status, "updated_at": at, **extra})


def _check_refund_lines(refund: Refund, context: RefundContext) -> None:
    lines = {line.line_item_id: line for line in context.lines}
    asked: dict[str, tuple[int, Money]] = {}  # the same line may appear twice in one refund
    for index, wanted in enumerate(refund.lines):
        line = lines.get(wanted.line_item_id)
        if line is None:
            field = f"lines[{index}].line_item_id"
            raise RefundRefused("is not a line of this order", field=field, code="unknown_line")
        quantity, amount = asked.get(line.line_item_id, (0, Money.zero(refund.amount.currency)))
        asked[line.line_item_id] = (quantity + wanted.quantity, amount + wanted.amount)
        _check_line_room(index, line, *asked[line.line_item_id])


def _check_line_room(index: int, line: LineRefundable, quantity: int, amount: Money) -> None:
    if quantity > line.refundable_quantity:
        raise RefundRefused(
            f"{quantity} is more than the {line.refundable_quantity} still refundable",
            field=f"lines[{index}].quantity",
            code="line_quantity_exceeded",
        )
    if amount > line.refundable_amount:
        raise RefundRefused(
            f"{amount} is more than the {line.refundable_amount} still refundable on this line",
            field=f"lines[{index}].amount",
            code="line_amount_exceeded",
        )


def _check_refund_payment(refund: Refund, context: RefundContext) -> None:
    payment = next((p for p in context.payments if p.payment_id == refund.payment_id), None)
    if payment is None:
        raise RefundRefused("is not a captured payment of this order", field="payment_id", code="unknown_payment")
    if refund.amount > payment.refundable:
        raise RefundRefused(
            f"{refund.amount} is more than the {payment.refundable} still refundable on this payment",
            field="amount",
            code="payment_exceeded",
        )


def _next_invoice(
    existing: Invoice | None, invoice_id: str, status: str, amount_due: Money, overdue: bool, hosted_url: str | None
) -> Invoice | None:
    """The invoice after this event, or None when the event is older than what we hold."""
    if existing is not None and status not in _INVOICE_NEXT[existing.status]:
        return None
    return Invoice(
        id=invoice_id,
        status=status,
        amount_due=amount_due,
        overdue=overdue,
        hosted_url=hosted_url or (existing.hosted_url if existing else None),
        reminders_sent=existing.reminders_sent if existing else 0,
    )


def _count_reminder(
    invoice: Invoice | None, existing: Invoice | None, event_type: str, reminder_number: int | None
) -> Invoice | None:
    if invoice is None or event_type != "invoice.reminder_sent":
        return invoice
    already = existing.reminders_sent if existing else 0
    number = already + 1 if reminder_number is None else reminder_number
    if number <= already:  # this reminder was counted already
        return None
    return invoice.model_copy(update={"reminders_sent": number})


def _check_invoice_event(invoice_id: str, status: str, event_type: str) -> None:
    _check_id("invoice_id", invoice_id, "inv")
    if event_type not in INVOICE_EVENT_TYPES:
        raise InvalidInput(f"must be one of {sorted(INVOICE_EVENT_TYPES)}", field="event_type")
    if status not in _INVOICE_NEXT:
        raise InvalidInput(f"must be one of {sorted(_INVOICE_NEXT)}", field="status")


def _is_order_level(field: str) -> bool:
    """Fields every reader of the order cares about: a change to one is worth an order.updated."""
    return field in ("status", "payment_status") or field.startswith("amounts.")


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = list(before) + [name for name in after if name not in before]
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in names
        if before.get(name) != after.get(name)
    }


def _replace_or_append(items: list, item: Any) -> list:
    if any(existing.id == item.id for existing in items):
        return [item if existing.id == item.id else existing for existing in items]
    return [*items, item]


def _json(value: BaseModel) -> Any:
    return value.model_dump(mode="json")


def _not_below_zero(money: Money) -> Money:
    return money if money.amount > 0 else Money.zero(money.currency)


# --- input validation ------------------------------------------------------------------------------


def _check_new_order(merchant_id: str, number: int, customer: Customer, currency: str, lines: Sequence) -> None:
    _check_id("merchant_id", merchant_id, "mer")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput("must be a whole number of at least 1", field="number")
    _check_email(customer.email)
    try:
        currency_exponent(currency)
    except (ValueError, TypeError):
        raise InvalidInput("is not an ISO-4217 currency code", field="currency") from None
    if not lines:
        raise InvalidInput("an order needs at least one line item", field="lines")


def _check_email(email: str) -> None:
    local, at, domain = (email or "").strip().partition("@")
    if not (local and at and "." in domain and "@" not in domain and len(email) <= 254):
        raise InvalidInput("is not an email address", field="customer.email")


def _line_item(field: str, line: NewLine, currency: str) -> LineItem:
    title = _text(f"{field}.title", line.title, 500)
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput("must be a whole number of at least 1", field=f"{field}.quantity")
    tax = Money.zero(currency) if line.tax is None else line.tax
    _check_money(f"{field}.unit_price", line.unit_price, currency)
    _check_money(f"{field}.tax", tax, currency)
    return LineItem(id=new_id("lin"), sku=line.sku, title=title, quantity=quantity, unit_price=line.unit_price, tax=tax)


def _check_discount(field: str, discount: Discount, currency: str) -> None:
    _text(f"{field}.code", discount.code, 100)
    _same_currency(f"{field}.amount", discount.amount, currency)
    _require_positive(f"{field}.amount", discount.amount)


def _check_totals(totals: Totals, expected_total: Money | None, currency: str) -> None:
    if totals.discount > totals.subtotal:
        raise InvalidInput(
            f"discounts of {totals.discount} are more than the subtotal of {totals.subtotal}", field="discounts"
        )
    if expected_total is None:
        return
    _same_currency("expected_total", expected_total, currency)
    if expected_total != totals.total:
        raise TotalsMismatch(
            f"is {expected_total}, but lines, tax and shipping less discounts add up to {totals.total}",
            field="expected_total",
        )


def _check_money(field: str, money: Money, currency: str) -> None:
    _same_currency(field, money, currency)
    if money.amount < 0:
        raise InvalidInput("must not be negative", field=field)


def _require_positive(field: str, money: Money) -> None:
    if money.amount <= 0:
        raise InvalidInput("must be more than zero", field=field)


def _same_currency(field: str, money: Money, currency: str) -> None:
    if not isinstance(money, Money):
        raise InvalidInput("must be money: {amount, currency}", field=field)
    if money.currency != currency:
        raise CurrencyMismatch(f"is in {money.currency}, the order is in {currency}", field=field)


def _check_id(field: str, value: str, prefix: str) -> None:
    if not isinstance(value, str) or not is_id(value, prefix):
        raise InvalidInput(f"must be a {PREFIXES[prefix]} id ({prefix}_...)", field=field)


def _text(field: str, value: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= max_length:
        raise InvalidInput(f"must be 1 to {max_length} characters", field=field)
    return text


def _metadata_values(values: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise InvalidInput("must be an object with string keys", field="metadata")
    try:
        encoded = json.dumps(values)
    except (TypeError, ValueError):
        raise InvalidInput("must be plain JSON", field="metadata") from None
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise InvalidInput(f"must be at most {MAX_METADATA_BYTES} bytes as JSON", field="metadata")
    return copy.deepcopy(values)  # the caller may go on mutating its dict


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise InvalidInput("must carry a time zone", field="at")
    return at
