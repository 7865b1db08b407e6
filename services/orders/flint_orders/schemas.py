"""What the HTTP API reads and writes, as pydantic models (they also make the OpenAPI
document). Request models forbid unknown fields: a misspelt ``shiping`` must be an error,
not an order without shipping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from flint_contracts.limits import MAX_NOTE_LENGTH
from flint_contracts.money import CurrencyCode, Money
from flint_contracts.order import OrderRecord
from flint_orders.domain import Customer, Discount, NewLine

MAX_LIMIT = 100


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_Request):
    email: str = Field(max_length=254, description="The buyer's email address.", examples=["ada@example.com"])
    name: str | None = Field(default=None, max_length=200, examples=["Ada Lovelace"])


class LineItemIn(_Request):
    title: str = Field(description="What was sold.", examples=["Mug"])
    quantity: StrictInt = Field(ge=1, description="A whole number, at least 1.", examples=[2])
    unit_price: Money = Field(description="Price of one unit, before tax, in the order's currency.")
    tax: Money | None = Field(default=None, description="Tax on the whole line (default zero).")
    sku: str | None = Field(default=None, max_length=100, examples=["MUG-1"])


class DiscountIn(_Request):
    code: str = Field(examples=["WELCOME"])
    amount: Money = Field(description="A positive amount taken off the order.")


class CreateOrder(_Request):
    """A new order. Totals are computed from the lines: send ``total`` to have them checked."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "customer": {"email": "ada@example.com", "name": "Ada"},
            "currency": "EUR",
            "line_items": [{"title": "Mug", "sku": "MUG-1", "quantity": 2,
                            "unit_price": {"amount": 1000, "currency": "EUR"},
                            "tax": {"amount": 380, "currency": "EUR"}}],
            "shipping": {"amount": 500, "currency": "EUR"},
            "total": {"amount": 2880, "currency": "EUR"},
        }]},
    )

    customer: CustomerIn
    currency: CurrencyCode
    line_items: list[LineItemIn] = Field(min_length=1, max_length=500)
    shipping: Money | None = Field(default=None, description="Shipping charged (default zero).")
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=50)
    total: Money | None = Field(
        default=None, description="If given, must equal lines + tax + shipping - discounts, else 422.",
    )
    tags: list[str] = Field(default_factory=list, max_length=100, description="Tags to start with.",
                            examples=[["wholesale"]])
    note: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE_LENGTH,
                             description="The buyer's note, recorded right after the order.")

    def domain_customer(self) -> Customer:
        return Customer(email=self.customer.email, name=self.customer.name)

    def domain_lines(self) -> list[NewLine]:
        return [NewLine(title=li.title, quantity=li.quantity, unit_price=li.unit_price, tax=li.tax, sku=li.sku)
                for li in self.line_items]

    def domain_discounts(self) -> list[Discount]:
        return [Discount(code=d.code, amount=d.amount) for d in self.discounts]


class AddNote(_Request):
    body: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH, examples=["Customer called about delivery."])


class CancelOrder(_Request):
    reason: str = Field(default="other", min_length=1, max_length=500, examples=["customer asked"])


# --- responses (documentation; the handlers answer with the stored JSON directly) ------------------


class OrderList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OrderRecord]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `starting_after` for the next page; null on the last.")


class TimelinePage(BaseModel):
    object: Literal["list"] = "list"
    data: list[TimelineEntryOut]
    has_more: bool
    next_cursor: str | None = Field(description="The last sequence on this page; pass as `starting_after`.")


class TimelineEntryOut(BaseModel):
    sequence: int
    type: str
    at: str
    actor: dict[str, Any]
    changes: dict[str, Any]
    data: dict[str, Any]
    event_id: str | None = Field(description="The order event published for this entry, if any.")


TimelinePage.model_rebuild()


class LineRefundable(BaseModel):
    line_item_id: str
    sku: str | None
    title: str
    quantity: int
    refundable_quantity: int
    total: Money
    refundable_amount: Money


class PaymentRefundable(BaseModel):
    payment_id: str
    method: str
    captured: Money
    refunded_or_pending: Money
    refundable: Money


class Refusal(BaseModel):
    code: str = Field(examples=["nothing_captured"])
    message: str


class RefundContext(BaseModel):
    """``GET /v1/orders/{id}/refund-context`` (``Order.refund_context().to_dict()``)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    currency: str
    captured: Money
    refunded: Money
    pending: Money
    max_refundable: Money
    shipping_refundable: Money
    lines: list[LineRefundable]
    payments: list[PaymentRefundable]
    refusal_reasons: list[Refusal] = Field(description="Empty when a refund is possible.")

__all__ = ["MAX_LIMIT", "AddNote", "CancelOrder", "CreateOrder", "OrderList", "RefundContext", "TimelinePage"]
