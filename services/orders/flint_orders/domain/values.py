"""The order's value objects: who acted, the customer, line items, money summaries,
payments, refunds, invoices and notes.

Plain frozen dataclasses: the domain validates what callers hand it (``validation``), so
building a value costs no more than a tuple; the ``Order`` replaces them on change. Each
writes itself as the JSON the order record holds (``to_dict``, the shape of
``flint_contracts.order``) and reads itself back from it (``from_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts.ids import is_id
from flint_contracts.literals import (
    ACTOR_TYPES,
    ActorType,
    InvoiceStatus,
    PaymentMethod,
    PaymentOutcome,
    RefundReason,
    RefundStatus,
)
from flint_contracts.money import Money
from flint_orders.domain.errors import InvalidInput

# Ids an actor of each type must have.
_ACTOR_ID_PREFIX = {"merchant": "mer", "app": "app"}


# --- JSON helpers -------------------------------------------------------------------------------


def money_json(money: Money) -> dict[str, Any]:
    return {"amount": money.amount, "currency": money.currency}


def money_of(data: dict[str, Any]) -> Money:
    return Money(amount=data["amount"], currency=data["currency"])


def time_json(at: datetime | None) -> str | None:
    """ISO 8601, UTC written as ``Z`` (as the order record has always carried it)."""
    if at is None:
        return None
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def time_of(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


# --- who and whom -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a merchant or an app (by id), the system (optionally the service,
    ``flint.checkout``), or the buyer."""

    type: ActorType
    id: str | None = None

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise InvalidInput(f"must be one of {sorted(ACTOR_TYPES)}", field="actor.type")
        prefix = _ACTOR_ID_PREFIX.get(self.type)
        if prefix is not None and not is_id(self.id, prefix):
            raise InvalidInput(f"a {self.type} actor needs its {prefix}_ id", field="actor.id")

    @classmethod
    def system(cls, service: str | None = None) -> Actor:
        return cls(type="system", id=service)

    @classmethod
    def app(cls, app_id: str) -> Actor:
        return cls(type="app", id=app_id)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actor:
        return cls(type=data["type"], id=data.get("id"))


SYSTEM = Actor.system()


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name}


# --- what was sold ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line item as a caller asks for it; ``Order.create`` validates it and gives it an id."""

    title: str
    quantity: int
    unit_price: Money
    tax: Money | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    sku: str | None
    title: str
    quantity: int
    unit_price: Money
    tax: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity + self.tax

    def to_dict(self) -> dict[str, Any]:
        # `total` is for readers; it is computed again on load.
        return {"id": self.id, "sku": self.sku, "title": self.title, "quantity": self.quantity,
                "unit_price": money_json(self.unit_price), "tax": money_json(self.tax),
                "total": money_json(self.total)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineItem:
        return cls(id=data["id"], sku=data["sku"], title=data["title"], quantity=data["quantity"],
                   unit_price=money_of(data["unit_price"]), tax=money_of(data["tax"]))


@dataclass(frozen=True, slots=True)
class Discount:
    code: str
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "amount": money_json(self.amount)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Discount:
        return cls(code=data["code"], amount=money_of(data["amount"]))


# --- money summaries ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money

    def to_dict(self) -> dict[str, Any]:
        return {"subtotal": money_json(self.subtotal), "tax": money_json(self.tax),
                "shipping": money_json(self.shipping), "discount": money_json(self.discount),
                "total": money_json(self.total)}


@dataclass(frozen=True, slots=True)
class Amounts:
    total: Money
    captured: Money
    refunded: Money
    refund_pending: Money
    net_paid: Money
    balance_due: Money
    credit: Money

    def to_dict(self) -> dict[str, Any]:
        return {name: money_json(getattr(self, name)) for name in self.__slots__}


# --- payments, refunds, invoices, notes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    amount: Money
    method: PaymentMethod
    status: PaymentOutcome
    at: datetime
    invoice_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "amount": money_json(self.amount), "method": self.method, "status": self.status,
                "invoice_id": self.invoice_id, "at": time_json(self.at), "failure_code": self.failure_code,
                "failure_message": self.failure_message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Payment:
        return cls(id=data["id"], amount=money_of(data["amount"]), method=data["method"], status=data["status"],
                   at=time_of(data["at"]), invoice_id=data.get("invoice_id"), failure_code=data.get("failure_code"),
                   failure_message=data.get("failure_message"))


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_item_id: str
    quantity: int
    amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"line_item_id": self.line_item_id, "quantity": self.quantity, "amount": money_json(self.amount)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefundLine:
        return cls(line_item_id=data["line_item_id"], quantity=data["quantity"], amount=money_of(data["amount"]))


@dataclass(frozen=True, slots=True)
class RefundPart:
    """The part of a refund that goes back to one payment, and what became of it."""

    payment_id: str
    amount: Money
    status: RefundStatus
    processor_reference: str | None = None
    failure_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "amount": money_json(self.amount), "status": self.status,
                "processor_reference": self.processor_reference, "failure_reason": self.failure_reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefundPart:
        return cls(payment_id=data["payment_id"], amount=money_of(data["amount"]), status=data["status"],
                   processor_reference=data.get("processor_reference"), failure_reason=data.get("failure_reason"))


@dataclass(frozen=True, slots=True)
class RefundDetails:
    """What every refund event (created, succeeded, failed) carries about the refund. A
    settled refund's figures are final: a refund whose later part failed after an earlier one
    moved money succeeds for what moved (``amount``), ``amount_requested`` is what was asked."""

    refund_id: str
    amount: Money
    lines: tuple[RefundLine, ...] = ()
    shipping: Money | None = None
    payment_id: str | None = None
    reason: RefundReason = "other"
    note: str | None = None
    actor: Actor = SYSTEM
    payments: tuple[RefundPart, ...] = ()
    amount_requested: Money | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: RefundStatus
    amount: Money
    lines: tuple[RefundLine, ...]
    shipping: Money
    reason: RefundReason
    actor: Actor
    created_at: datetime
    updated_at: datetime
    payment_id: str | None = None
    note: str | None = None
    processor_reference: str | None = None
    failure_reason: str | None = None
    payments: tuple[RefundPart, ...] = ()
    amount_requested: Money | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "amount": money_json(self.amount),
                "lines": [line.to_dict() for line in self.lines], "shipping": money_json(self.shipping),
                "payment_id": self.payment_id, "reason": self.reason, "note": self.note,
                "actor": self.actor.to_dict(), "created_at": time_json(self.created_at),
                "updated_at": time_json(self.updated_at), "processor_reference": self.processor_reference,
                "failure_reason": self.failure_reason, "payments": [part.to_dict() for part in self.payments],
                "amount_requested": None if self.amount_requested is None else money_json(self.amount_requested)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refund:
        return cls(id=data["id"], status=data["status"], amount=money_of(data["amount"]),
                   lines=tuple(RefundLine.from_dict(line) for line in data["lines"]),
                   shipping=money_of(data["shipping"]), reason=data["reason"], actor=Actor.from_dict(data["actor"]),
                   created_at=time_of(data["created_at"]), updated_at=time_of(data["updated_at"]),
                   payment_id=data.get("payment_id"), note=data.get("note"),
                   processor_reference=data.get("processor_reference"), failure_reason=data.get("failure_reason"),
                   # records written before refunds had parts have neither field
                   payments=tuple(RefundPart.from_dict(part) for part in data.get("payments", ())),
                   amount_requested=None if data.get("amount_requested") is None else money_of(data["amount_requested"]))


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    status: InvoiceStatus
    amount_due: Money
    overdue: bool = False
    hosted_url: str | None = None
    sent: bool = False  # sending changes no status, so it needs its own mark
    reminders_sent: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "amount_due": money_json(self.amount_due),
                "overdue": self.overdue, "hosted_url": self.hosted_url, "sent": self.sent,
                "reminders_sent": self.reminders_sent}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Invoice:
        return cls(id=data["id"], status=data["status"], amount_due=money_of(data["amount_due"]),
                   overdue=data["overdue"], hosted_url=data.get("hosted_url"), sent=data["sent"],
                   reminders_sent=data["reminders_sent"])


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    body: str
    actor: Actor
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "body": self.body, "actor": self.actor.to_dict(), "at": time_json(self.at)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Note:
        return cls(id=data["id"], body=data["body"], actor=Actor.from_dict(data["actor"]), at=time_of(data["at"]))
