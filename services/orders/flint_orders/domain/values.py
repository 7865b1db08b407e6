"""The order's value objects: who acted, the customer, line items, money summaries,
payments, refunds, invoices and notes. Immutable; the ``Order`` replaces them on change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field

from flint_contracts.limits import MAX_TAG_LENGTH
from flint_contracts.money import Money

OrderStatus = Literal["open", "completed", "canceled"]
PaymentStatus = Literal["unpaid", "partially_paid", "paid", "partially_refunded", "refunded", "voided"]
ActorType = Literal["merchant", "app", "system", "buyer"]
RefundStatus = Literal["pending", "succeeded", "failed"]
InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]

PAYMENT_METHODS = frozenset({"card", "invoice", "bank_transfer", "other"})
REFUND_REASONS = frozenset({"requested_by_customer", "duplicate", "fraudulent", "defective", "other"})
MAX_TAGS = 100
MAX_NOTE_LENGTH = 5000
MAX_METADATA_BYTES = 16_384


class ValueObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(ValueObject):
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


class Customer(ValueObject):
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


class LineItem(ValueObject):
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


class Discount(ValueObject):
    code: str
    amount: Money


class Totals(ValueObject):
    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money


class Amounts(ValueObject):
    total: Money
    captured: Money
    refunded: Money
    refund_pending: Money
    net_paid: Money
    balance_due: Money
    credit: Money


class Payment(ValueObject):
    id: str
    amount: Money
    method: str
    status: Literal["captured", "failed"]
    invoice_id: str | None = None
    at: AwareDatetime
    failure_code: str | None = None
    failure_message: str | None = None


class RefundLine(ValueObject):
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


class Refund(ValueObject):
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


class Invoice(ValueObject):
    id: str
    status: InvoiceStatus
    amount_due: Money
    overdue: bool = False
    hosted_url: str | None = None
    sent: bool = False  # sending changes no status, so it needs its own mark
    reminders_sent: int = 0


class Note(ValueObject):
    id: str
    body: str
    actor: Actor
    at: AwareDatetime


def to_json(value: BaseModel) -> Any:
    return value.model_dump(mode="json")
