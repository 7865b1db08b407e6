"""The order record: the aggregate every change goes through.

Each method validates fully before it touches anything, bumps ``version`` and appends one
timeline entry; a duplicate or stale event changes nothing and returns None. The rules it
applies live beside it: ``rules`` (money), ``refund_context`` (what is refundable),
``invoices`` (invoice lifecycle), ``validation`` (input checks), ``timeline`` (entries).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, computed_field

from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_NOTES_PER_ORDER
from flint_contracts.money import Money
from flint_contracts.money import total as money_total
from flint_orders.domain.errors import InvalidInput, InvalidTransition
from flint_orders.domain.event_types import TIMELINE_TYPES
from flint_orders.domain.invoices import check_invoice_event, count_reminder, next_invoice
from flint_orders.domain.refund_context import RefundContext, check_refundable, refund_context_of
from flint_orders.domain.rules import (
    advance_refund,
    capture_entry_type,
    not_below_zero,
    payment_status_for,
    refund_entry_type,
)
from flint_orders.domain.timeline import TimelineEntry, diff_fields
from flint_orders.domain.validation import (
    aware_time,
    check_discount,
    check_id,
    check_money,
    check_new_order,
    check_totals,
    clean_text,
    metadata_values,
    new_line_item,
    normalize_tag,
    require_positive,
    same_currency,
)
from flint_orders.domain.values import (
    MAX_NOTE_LENGTH,
    MAX_TAGS,
    PAYMENT_METHODS,
    REFUND_REASONS,
    SYSTEM,
    Actor,
    Amounts,
    Customer,
    Discount,
    Invoice,
    LineItem,
    NewLine,
    Note,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundDetails,
    RefundStatus,
    Totals,
    to_json,
)


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
        tags: Sequence[str] = (),
    ) -> Order:
        """A new open order. Raises InvalidInput, CurrencyMismatch or TotalsMismatch."""
        check_new_order(merchant_id, number, customer, currency, lines)
        if order_id is not None:
            check_id("order_id", order_id, "ord")
        shipping = Money.zero(currency) if shipping is None else shipping
        check_money("shipping", shipping, currency)
        for index, discount in enumerate(discounts):
            check_discount(f"discounts[{index}]", discount, currency)
        at = aware_time(at)
        order = cls(
            id=order_id or new_id("ord"),
            merchant_id=merchant_id,
            number=number,
            customer=Customer(email=customer.email.strip(), name=customer.name),
            currency=currency,
            line_items=[new_line_item(f"lines[{i}]", line, currency) for i, line in enumerate(lines)],
            shipping=shipping,
            discounts=list(discounts),
            tags=_new_tags(tags),
            created_at=at,
            updated_at=at,
        )
        check_totals(order.totals, expected_total, currency)
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
            balance_due=not_below_zero(owed - net_paid),
            credit=not_below_zero(net_paid - owed),
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
        kind = capture_entry_type(before["payment_status"], self.payment_status)
        return self._record(kind, actor, payment.at, before, {"payment": to_json(payment)})

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
        return self._record("payment.failed", actor, payment.at, before, {"payment": to_json(payment)})

    # --- refunds ----------------------------------------------------------------------------

    def record_refund_created(self, refund: RefundDetails, *, at: datetime | None = None) -> TimelineEntry | None:
        """A refund requested: its amount is held in refund_pending until it succeeds or fails.
        Raises RefundRefused when it would take more than is still refundable."""
        return self._record_refund(refund, "pending", aware_time(at), {})

    def record_refund_succeeded(
        self, refund: RefundDetails, *, at: datetime | None = None, processor_reference: str | None = None
    ) -> TimelineEntry | None:
        """Money went back. Emits order.refunded or order.partially_refunded with the refund."""
        extra = {"processor_reference": processor_reference}
        return self._record_refund(refund, "succeeded", aware_time(at), extra)

    def record_refund_failed(
        self, refund: RefundDetails, *, at: datetime | None = None, failure_reason: str | None = None
    ) -> TimelineEntry | None:
        """The refund did not happen: the pending amount is released."""
        return self._record_refund(refund, "failed", aware_time(at), {"failure_reason": failure_reason})

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
        check_invoice_event(invoice_id, status, event_type)
        self._require_currency("amount_due", amount_due)
        existing = self._invoice(invoice_id)
        invoice = next_invoice(existing, invoice_id, status, amount_due, overdue, hosted_url, event_type)
        invoice = count_reminder(invoice, existing, event_type, reminder_number)
        if invoice is None or invoice == existing:
            return None
        before = self._tracked()
        self._put_invoice(invoice)
        data = {"invoice": to_json(invoice), "reminder_number": reminder_number}
        return self._record(event_type, actor, aware_time(at), before, data)

    # --- notes, tags, metadata ----------------------------------------------------------------

    def add_note(self, body: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        body = clean_text("body", body, MAX_NOTE_LENGTH)
        if len(self.notes) >= MAX_NOTES_PER_ORDER:  # every event carries every note
            raise InvalidInput(f"an order holds at most {MAX_NOTES_PER_ORDER} notes", field="notes",
                               code="too_many_notes")
        note = Note(id=new_id("not"), body=body, actor=actor, at=aware_time(at))
        before = self._tracked()
        self.notes.append(note)
        return self._record("order.note_added", actor, note.at, before, {"note": to_json(note)})

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
        check_id("app_id", app_id, "app")
        values = metadata_values(values)
        if values == self.metadata.get(app_id, {}):
            return None
        before = self._tracked()
        self.metadata = {k: v for k, v in self.metadata.items() if k != app_id}
        if values:
            self.metadata[app_id] = values
        data = {"app_id": app_id, "metadata": copy.deepcopy(values)}
        return self._record("order.metadata_updated", Actor.app(app_id), aware_time(at), before, data)

    # --- lifecycle --------------------------------------------------------------------------

    def cancel(self, reason: str = "other", *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Cancels an open order. Nothing is owed afterwards: balance_due becomes 0, money kept
        becomes credit, and with nothing captured payment_status becomes voided."""
        self._require_open("cancel")
        reason = clean_text("reason", reason, 500)
        at = aware_time(at)
        before = self._tracked()
        self.status, self.canceled_at, self.cancel_reason = "canceled", at, reason
        return self._record("order.canceled", actor, at, before, {"reason": reason})

    def complete(self, *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Marks an open order done (fulfilled). Payments and refunds may still arrive."""
        self._require_open("complete")
        at = aware_time(at)
        before = self._tracked()
        self.status, self.completed_at = "completed", at
        return self._record("order.updated", actor, at, before, {})

    def record_rejected_event(
        self, event_type: str, event_id: str, reason: str, *, at: datetime | None = None
    ) -> TimelineEntry:
        """Notes on the timeline that an event was dead-lettered, so the order explains itself."""
        data = {"event_type": event_type, "event_id": event_id, "reason": reason}
        return self._record("event.rejected", SYSTEM, aware_time(at), self._tracked(), data)

    # --- refund context ---------------------------------------------------------------------

    def refund_context(self) -> RefundContext:
        """Captured, refunded, pending; what is still refundable overall, per line, on
        shipping and per payment; and the reasons a refund would be refused right now."""
        return refund_context_of(self)

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
            changes=diff_fields(before, self._tracked()),
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
            **{f"amounts.{name}": to_json(getattr(amounts, name)) for name in _TRACKED_AMOUNTS},
            "tags": list(self.tags),
        }
        # Copied so an entry never shares a dict with the order it describes.
        fields |= {f"metadata.{app}": copy.deepcopy(values) for app, values in self.metadata.items()}
        fields |= {f"payments.{p.id}.status": p.status for p in self.payments}
        fields |= {f"refunds.{r.id}.status": r.status for r in self.refunds}
        fields |= {f"notes.{n.id}": n.body for n in self.notes}
        for invoice in self.invoices:
            fields |= {f"invoices.{invoice.id}.{k}": v for k, v in to_json(invoice).items() if k != "id"}
        return fields

    # --- private: payments and refunds ----------------------------------------------------------

    def _new_payment(
        self, payment_id: str, amount: Money, method: str, invoice_id: str | None, at: datetime | None, *, status: str
    ) -> Payment:
        check_id("payment_id", payment_id, "pay")
        if invoice_id is not None:
            check_id("invoice_id", invoice_id, "inv")
        self._require_currency("amount", amount)
        require_positive("amount", amount)
        if method not in PAYMENT_METHODS:
            raise InvalidInput(f"must be one of {sorted(PAYMENT_METHODS)}", field="method")
        return Payment(id=payment_id, amount=amount, method=method, status=status, invoice_id=invoice_id, at=aware_time(at))

    def _record_refund(
        self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict[str, Any]
    ) -> TimelineEntry | None:
        existing = self._refund(details.refund_id)
        if existing is None:
            refund = self._new_refund(details, status, at, extra)
        else:
            refund = advance_refund(existing, status, at, extra)
            if refund is None:
                return None
        before = self._tracked()
        self._put_refund(refund)
        kind = refund_entry_type(status, self.payment_status)
        return self._record(kind, details.actor, at, before, {"refund": to_json(refund)})

    def _new_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        refund = self._build_refund(details, status, at, extra)
        if status != "failed":  # a failed refund holds no money, so it needs no room
            check_refundable(refund, self.refund_context())
        return refund

    def _build_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        check_id("refund_id", details.refund_id, "rfd")
        shipping = Money.zero(self.currency) if details.shipping is None else details.shipping
        self._require_currency("amount", details.amount)
        require_positive("amount", details.amount)
        check_money("shipping", shipping, self.currency)
        for index, line in enumerate(details.lines):
            check_money(f"lines[{index}].amount", line.amount, self.currency)
        if self._sum(line.amount for line in details.lines) + shipping > details.amount:
            raise InvalidInput(f"lines and shipping add up to more than the refund's {details.amount}", field="amount")
        if details.reason not in REFUND_REASONS:
            raise InvalidInput(f"must be one of {sorted(REFUND_REASONS)}", field="reason")
        return Refund(
            id=details.refund_id, status=status, amount=details.amount, lines=list(details.lines),
            shipping=shipping, payment_id=details.payment_id, reason=details.reason, note=details.note,
            actor=details.actor, created_at=at, updated_at=at, **extra,
        )  # fmt: skip

    # --- private: lookups and small rules ----------------------------------------------------------

    def _sum(self, amounts: Any) -> Money:
        return money_total(list(amounts), self.currency)

    def _require_currency(self, field: str, money: Money) -> None:
        same_currency(field, money, self.currency)

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
        return self._record("order.updated", actor, aware_time(at), before, data)


_TRACKED_AMOUNTS = ("captured", "refunded", "refund_pending", "balance_due", "credit")


def _replace_or_append(items: list, item: Any) -> list:
    if any(existing.id == item.id for existing in items):
        return [item if existing.id == item.id else existing for existing in items]
    return [*items, item]


def _new_tags(tags: Sequence[str]) -> list[str]:
    normalized: set[str] = set()
    for index, tag in enumerate(tags):
        try:
            normalized.add(normalize_tag(tag))
        except InvalidInput as error:
            raise InvalidInput(error.reason, field=f"tags[{index}]") from None
    if len(normalized) > MAX_TAGS:
        raise InvalidInput(f"an order holds at most {MAX_TAGS} tags", field="tags")
    return sorted(normalized)
