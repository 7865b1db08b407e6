"""The order record: the aggregate every change goes through.

Each method validates fully before it touches anything, bumps ``version`` and appends one
timeline entry; a duplicate or stale event changes nothing and returns None. The rules it
applies live beside it: ``rules`` (money), ``refund_context`` (what is refundable),
``invoices`` (invoice lifecycle), ``validation`` (input checks), ``timeline`` (entries).

A plain dataclass: the order is rebuilt from storage and written back on every change, so
it costs what its fields cost, and ``to_dict`` writes the record's JSON (the shape of
``flint_contracts.order.OrderRecord``) directly.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from flint_contracts import event_types as types
from flint_contracts.ids import new_id
from flint_contracts.limits import (
    MAX_NOTE_LENGTH,
    MAX_NOTES_PER_ORDER,
    MAX_REASON_LENGTH,
    MAX_TAGS_PER_ORDER,
)
from flint_contracts.events.refunds import check_parts
from flint_contracts.literals import (
    PAYMENT_METHODS,
    REFUND_REASONS,
    REFUND_STATUSES,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from flint_contracts.money import MAX_AMOUNT, Money
from flint_orders.domain.errors import ConflictingEvent, InvalidInput, InvalidTransition
from flint_orders.domain.event_types import EVENT_REJECTED, TIMELINE_TYPES
from flint_orders.domain.invoices import check_invoice_event, count_reminder, next_invoice
from flint_orders.domain.refund_context import RefundContext, check_refundable, refund_context_of
from flint_orders.domain.rules import advances, capture_entry_type, payment_status_for, refund_entry_type
from flint_orders.domain.timeline import TimelineEntry, diff_fields
from flint_orders.domain.validation import (
    aware_time,
    check_id,
    check_money,
    check_new_order,
    check_totals,
    clean_customer,
    clean_discount,
    clean_text,
    metadata_values,
    new_line_item,
    normalize_tag,
    optional_text,
    require_positive,
    same_currency,
)
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
    money_json,
    time_json,
    time_of,
)


class Figures(NamedTuple):
    """The order's money in minor units (docs/orders.md, "Money rules"), computed at once."""

    subtotal: int
    tax: int
    shipping: int
    discount: int
    total: int
    captured: int
    refunded: int
    refund_pending: int
    net_paid: int
    balance_due: int
    credit: int


@dataclass(eq=False)
class Order:
    """The order record. Change it only through its methods: each validates fully before it
    touches anything, bumps ``version`` and appends exactly one timeline entry. Methods that
    receive a duplicate or stale event change nothing and return None."""

    id: str
    merchant_id: str
    number: int
    customer: Customer
    currency: str
    line_items: list[LineItem]
    shipping: Money
    created_at: datetime
    updated_at: datetime
    discounts: list[Discount] = field(default_factory=list)
    status: OrderStatus = "open"
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # normalized, sorted, unique
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # app id -> its namespace
    version: int = 0
    canceled_at: datetime | None = None
    cancel_reason: str | None = None
    _new_entries: list[TimelineEntry] = field(default_factory=list, repr=False)

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
        check_new_order(merchant_id, number, currency, lines, discounts)
        if order_id is not None:
            check_id("order_id", order_id, "ord")
        shipping = Money.zero(currency) if shipping is None else shipping
        check_money("shipping", shipping, currency)
        at = aware_time(at)
        order = cls(
            id=order_id or new_id("ord"),
            merchant_id=merchant_id,
            number=number,
            customer=clean_customer(customer),
            currency=currency,
            line_items=[new_line_item(f"lines[{i}]", line, currency) for i, line in enumerate(lines)],
            shipping=shipping,
            discounts=[clean_discount(f"discounts[{i}]", d, currency) for i, d in enumerate(discounts)],
            tags=_new_tags(tags),
            created_at=at,
            updated_at=at,
        )
        check_totals(order.totals, expected_total, currency)
        order._record(types.ORDER_CREATED, actor, at, {}, {"number": number})
        return order

    # --- derived money (docs/orders.md, "Money rules") ------------------------------------

    def figures(self) -> Figures:
        """Every derived amount at once, in minor units."""
        subtotal = sum(line.unit_price.amount * line.quantity for line in self.line_items)
        tax = sum(line.tax.amount for line in self.line_items)
        discount = sum(d.amount.amount for d in self.discounts)
        total = subtotal + tax + self.shipping.amount - discount
        captured = sum(p.amount.amount for p in self.payments if p.status == "captured")
        refunded = sum(r.amount.amount for r in self.refunds if r.status == "succeeded")
        pending = sum(r.amount.amount for r in self.refunds if r.status == "pending")
        # A refund lowers what the order charges (the buyer is never asked again for money the
        # merchant gave back); a canceled order owes nothing, so whatever it holds is credit.
        owed = 0 if self.status == "canceled" else total - refunded
        net_paid = captured - refunded
        return Figures(subtotal, tax, self.shipping.amount, discount, total, captured, refunded, pending, net_paid,
                       max(owed - net_paid, 0), max(net_paid - owed, 0))

    @property
    def totals(self) -> Totals:
        f = self.figures()
        return Totals(subtotal=self._money(f.subtotal), tax=self._money(f.tax), shipping=self.shipping,
                      discount=self._money(f.discount), total=self._money(f.total))

    @property
    def amounts(self) -> Amounts:
        f = self.figures()
        return Amounts(**{name: self._money(getattr(f, name)) for name in Amounts.__slots__})

    @property
    def payment_status(self) -> PaymentStatus:
        return self._payment_status(self.figures())

    def _payment_status(self, f: Figures) -> PaymentStatus:
        return payment_status_for(total=f.total, captured=f.captured, refunded=f.refunded,
                                  canceled=self.status == "canceled")

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
        return self._record(kind, actor, payment.at, before, {"payment": payment.to_dict()})

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
        payment = dataclasses.replace(
            payment, failure_code=optional_text("failure_code", failure_code, MAX_REASON_LENGTH),
            failure_message=optional_text("failure_message", failure_message, MAX_NOTE_LENGTH),
        )
        before = self._tracked()
        self.payments.append(payment)
        return self._record(types.PAYMENT_FAILED, actor, payment.at, before, {"payment": payment.to_dict()})

    # --- refunds ----------------------------------------------------------------------------

    def record_refund_created(self, refund: RefundDetails, *, at: datetime | None = None) -> TimelineEntry | None:
        """A refund requested: its amount is held in refund_pending until it succeeds or fails.
        Raises RefundRefused when it would take more than is still refundable."""
        return self._record_refund(refund, "pending", aware_time(at), {})

    def record_refund_succeeded(
        self, refund: RefundDetails, *, at: datetime | None = None, processor_reference: str | None = None
    ) -> TimelineEntry | None:
        """Money went back. Emits order.refunded or order.partially_refunded with the refund.
        Its figures are final: a refund that moved less than it held (a later part failed after
        an earlier one moved money) keeps only what moved, and releases the rest."""
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
        data = {"invoice": invoice.to_dict(), "reminder_number": reminder_number}
        return self._record(event_type, actor, aware_time(at), before, data)

    # --- notes, tags, metadata ----------------------------------------------------------------

    def add_note(self, body: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Adds a note; an order holds at most MAX_NOTES_PER_ORDER (every event carries them all)."""
        body = clean_text("body", body, MAX_NOTE_LENGTH)
        if len(self.notes) >= MAX_NOTES_PER_ORDER:
            raise InvalidInput(f"an order holds at most {MAX_NOTES_PER_ORDER} notes", field="notes",
                               code="too_many_notes")
        note = Note(id=new_id("not"), body=body, actor=actor, at=aware_time(at))
        before = self._tracked()
        self.notes.append(note)
        return self._record(types.ORDER_NOTE_ADDED, actor, note.at, before, {"note": note.to_dict()})

    def add_tag(self, tag: str, *, actor: Actor, at: datetime | None = None) -> TimelineEntry | None:
        """Adds a normalized tag; an existing tag changes nothing and returns None."""
        tag = normalize_tag(tag)
        if tag in self.tags:
            return None
        if len(self.tags) >= MAX_TAGS_PER_ORDER:
            raise InvalidInput(f"an order holds at most {MAX_TAGS_PER_ORDER} tags", field="tag")
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
        return self._record(types.ORDER_METADATA_UPDATED, Actor.app(app_id), aware_time(at), before, data)

    # --- lifecycle --------------------------------------------------------------------------

    def cancel(self, reason: str = "other", *, actor: Actor, at: datetime | None = None) -> TimelineEntry:
        """Cancels an open order. Nothing is owed afterwards: balance_due becomes 0, money kept
        becomes credit, and with nothing captured payment_status becomes voided."""
        self._require_open("cancel")
        reason = clean_text("reason", reason, MAX_REASON_LENGTH)
        at = aware_time(at)
        before = self._tracked()
        self.status, self.canceled_at, self.cancel_reason = "canceled", at, reason
        return self._record(types.ORDER_CANCELED, actor, at, before, {"reason": reason})

    def record_rejected_event(
        self, event_type: str, event_id: str, reason: str, *, at: datetime | None = None
    ) -> TimelineEntry:
        """Notes on the timeline that an event was dead-lettered, so the order explains itself."""
        data = {"event_type": event_type, "event_id": event_id, "reason": reason}
        return self._record(EVENT_REJECTED, SYSTEM, aware_time(at), self._tracked(), data)

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
    def loaded_version(self) -> int:
        """The version the order had when loaded: the optimistic-concurrency guard for saving."""
        return self.version - len(self._new_entries)

    def pull_new_entries(self) -> list[TimelineEntry]:
        """Hands the new entries over (to write them) and forgets them."""
        entries, self._new_entries = self._new_entries, []
        return entries

    # --- storage ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The order record as JSON (``flint_contracts.order.OrderRecord``): money as
        {"amount", "currency"}, with totals, amounts and payment_status for columns and
        readers. The timeline is stored separately."""
        f = self.figures()
        money = self._money_json
        return {
            "id": self.id, "merchant_id": self.merchant_id, "number": self.number,
            "customer": self.customer.to_dict(), "currency": self.currency,
            "line_items": [line.to_dict() for line in self.line_items], "shipping": money_json(self.shipping),
            "discounts": [d.to_dict() for d in self.discounts], "status": self.status,
            "payments": [p.to_dict() for p in self.payments], "refunds": [r.to_dict() for r in self.refunds],
            "invoices": [i.to_dict() for i in self.invoices], "notes": [n.to_dict() for n in self.notes],
            "tags": list(self.tags), "metadata": copy.deepcopy(self.metadata), "version": self.version,
            "created_at": time_json(self.created_at), "updated_at": time_json(self.updated_at),
            "canceled_at": time_json(self.canceled_at), "cancel_reason": self.cancel_reason,
            "totals": {name: money(getattr(f, name)) for name in Totals.__slots__},
            "amounts": {name: money(getattr(f, name)) for name in Amounts.__slots__},
            "payment_status": self._payment_status(f),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        """The order from its stored record (derived fields are computed again)."""
        return cls(
            id=data["id"], merchant_id=data["merchant_id"], number=data["number"],
            customer=Customer(email=data["customer"]["email"], name=data["customer"].get("name")),
            currency=data["currency"], line_items=[LineItem.from_dict(line) for line in data["line_items"]],
            shipping=Money(**data["shipping"]), created_at=time_of(data["created_at"]),
            updated_at=time_of(data["updated_at"]), discounts=[Discount.from_dict(d) for d in data["discounts"]],
            status=data["status"], payments=[Payment.from_dict(p) for p in data["payments"]],
            refunds=[Refund.from_dict(r) for r in data["refunds"]],
            invoices=[Invoice.from_dict(i) for i in data["invoices"]], notes=[Note.from_dict(n) for n in data["notes"]],
            tags=list(data["tags"]), metadata=data["metadata"], version=data["version"],
            canceled_at=time_of(data.get("canceled_at")), cancel_reason=data.get("cancel_reason"),
        )  # fmt: skip

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
        f = self.figures()
        fields: dict[str, Any] = {
            "status": self.status,
            "payment_status": self._payment_status(f),
            **{f"amounts.{name}": self._money_json(getattr(f, name)) for name in _TRACKED_AMOUNTS},
            "tags": list(self.tags),
        }
        # Copied so an entry never shares a dict with the order it describes.
        fields |= {f"metadata.{app}": copy.deepcopy(values) for app, values in self.metadata.items()}
        fields |= {f"payments.{p.id}.status": p.status for p in self.payments}
        fields |= {f"refunds.{r.id}.status": r.status for r in self.refunds}
        fields |= {f"notes.{n.id}": n.body for n in self.notes}
        for invoice in self.invoices:
            fields |= {f"invoices.{invoice.id}.{k}": v for k, v in invoice.to_dict().items() if k != "id"}
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
        extra = {name: optional_text(name, value, MAX_REASON_LENGTH) for name, value in extra.items()}
        existing = self._refund(details.refund_id)
        if existing is None:
            refund = self._new_refund(details, status, at, extra)
        elif advances(existing, status):
            refund = self._settled_refund(existing, details, status, at, extra)
        else:
            return None
        before = self._tracked()
        self._put_refund(refund)
        kind = refund_entry_type(status, self.payment_status)
        return self._record(kind, details.actor, at, before, {"refund": refund.to_dict()})

    def _new_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        refund = self._build_refund(details, status, at, extra)
        if status != "failed":  # a failed refund holds no money, so it needs no room
            check_refundable(refund, self)
        return refund

    def _settled_refund(
        self, existing: Refund, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict
    ) -> Refund:
        """A pending refund as it ended, with its final figures: never more than it held."""
        settled = self._build_refund(details, status, at, extra)
        if settled.amount > existing.amount:
            raise ConflictingEvent(f"refund {existing.id} {status} for {settled.amount}, more than the "
                                   f"{existing.amount} it held")
        return dataclasses.replace(settled, created_at=existing.created_at)

    def _build_refund(self, details: RefundDetails, status: RefundStatus, at: datetime, extra: dict) -> Refund:
        check_id("refund_id", details.refund_id, "rfd")
        shipping = Money.zero(self.currency) if details.shipping is None else details.shipping
        self._require_currency("amount", details.amount)
        require_positive("amount", details.amount)
        check_money("shipping", shipping, self.currency)
        if details.payment_id is not None:
            check_id("payment_id", details.payment_id, "pay")
        for index, line in enumerate(details.lines):
            check_refund_line(f"lines[{index}]", line, self.currency)
        if sum(line.amount.amount for line in details.lines) + shipping.amount > details.amount.amount:
            raise InvalidInput(f"lines and shipping add up to more than the refund's {details.amount}", field="amount")
        if details.reason not in REFUND_REASONS:
            raise InvalidInput(f"must be one of {sorted(REFUND_REASONS)}", field="reason")
        self._check_refund_parts(details, status)
        return Refund(
            id=details.refund_id, status=status, amount=details.amount, lines=tuple(details.lines),
            shipping=shipping, payment_id=details.payment_id, reason=details.reason,
            note=optional_text("note", details.note, MAX_NOTE_LENGTH), actor=details.actor, created_at=at,
            updated_at=at, payments=tuple(details.payments), amount_requested=details.amount_requested, **extra,
        )  # fmt: skip

    def _check_refund_parts(self, details: RefundDetails, status: RefundStatus) -> None:
        for index, part in enumerate(details.payments):
            check_refund_part(f"payments[{index}]", part, self.currency)
        if len({part.payment_id for part in details.payments}) != len(details.payments):
            raise InvalidInput("each payment may appear only once", field="payments")
        if details.payments:
            try:
                check_parts(status, details.amount, details.payments)
            except ValueError as error:
                raise InvalidInput(str(error), field="payments") from None
        if details.amount_requested is not None:
            self._require_currency("amount_requested", details.amount_requested)
            if status != "succeeded" or details.amount_requested <= details.amount:
                raise InvalidInput("only a succeeded refund that returned less than asked has one",
                                   field="amount_requested")

    # --- private: lookups and small rules ----------------------------------------------------------

    def _money(self, amount: int) -> Money:
        return Money(amount=_within_bound(amount), currency=self.currency)

    def _money_json(self, amount: int) -> dict[str, Any]:
        """An amount as the record writes it, without building Money just to write it out."""
        return {"amount": _within_bound(amount), "currency": self.currency}

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
        return self._record(types.ORDER_UPDATED, actor, aware_time(at), before, data)


_TRACKED_AMOUNTS = ("captured", "refunded", "refund_pending", "balance_due", "credit")


def _within_bound(amount: int) -> int:
    if not -MAX_AMOUNT <= amount <= MAX_AMOUNT:
        raise InvalidInput(f"adds up to more than the {MAX_AMOUNT} minor units an amount may hold", field="total")
    return amount


def check_refund_line(field: str, line: RefundLine, currency: str) -> None:
    check_money(f"{field}.amount", line.amount, currency)
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InvalidInput("must be a whole number, 0 or more", field=f"{field}.quantity")
    if quantity == 0 and line.amount.amount == 0:
        raise InvalidInput("a refund line must refund items or money", field=field)


def check_refund_part(field: str, part: RefundPart, currency: str) -> None:
    check_id(f"{field}.payment_id", part.payment_id, "pay")
    check_money(f"{field}.amount", part.amount, currency)
    require_positive(f"{field}.amount", part.amount)
    if part.status not in REFUND_STATUSES:
        raise InvalidInput(f"must be one of {sorted(REFUND_STATUSES)}", field=f"{field}.status")
    reference = optional_text(f"{field}.processor_reference", part.processor_reference, MAX_REASON_LENGTH)
    reason = optional_text(f"{field}.failure_reason", part.failure_reason, MAX_REASON_LENGTH)
    if (part.status == "succeeded") != (reference is not None) or (part.status == "failed") != (reason is not None):
        raise InvalidInput("a part has a processor_reference exactly when it succeeded, a failure_reason exactly "
                           "when it failed", field=field)


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
    if len(normalized) > MAX_TAGS_PER_ORDER:
        raise InvalidInput(f"an order holds at most {MAX_TAGS_PER_ORDER} tags", field="tags")
    return sorted(normalized)
