"""What the HTTP API reads and writes, as pydantic models (they also make the OpenAPI
document). Request models forbid unknown fields: a misspelt ``shiping`` must be an error,
not an order without shipping."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from flint_contracts.limits import (
    MAX_DISCOUNT_CODE_LENGTH,
    MAX_DISCOUNTS,
    MAX_EMAIL_LENGTH,
    MAX_LINE_ITEMS,
    MAX_METADATA_BYTES,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_NOTES_PER_ORDER,
    MAX_PAGE_SIZE,
    MAX_REASON_LENGTH,
    MAX_SKU_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_ORDER,
    MAX_TITLE_LENGTH,
)
from flint_contracts.money import MAX_AMOUNT, CurrencyCode, Money
from flint_contracts.order import OrderRecord
from flint_orders.domain import Customer, Discount, NewLine

MAX_LIMIT = MAX_PAGE_SIZE


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_Request):
    email: str = Field(max_length=MAX_EMAIL_LENGTH, description="The buyer's email address.",
                       examples=["ada@example.com"])
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH, examples=["Ada Lovelace"])


class LineItemIn(_Request):
    title: str = Field(min_length=1, max_length=MAX_TITLE_LENGTH, description="What was sold.", examples=["Mug"])
    quantity: StrictInt = Field(ge=1, le=MAX_AMOUNT, description="A whole number, at least 1.", examples=[2])
    unit_price: Money = Field(description="Price of one unit, before tax, in the order's currency.")
    tax: Money | None = Field(default=None, description="Tax on the whole line (default zero).")
    sku: str | None = Field(default=None, max_length=MAX_SKU_LENGTH, examples=["MUG-1"])


class DiscountIn(_Request):
    code: str = Field(min_length=1, max_length=MAX_DISCOUNT_CODE_LENGTH, examples=["WELCOME"])
    amount: Money = Field(description="A positive amount taken off the order.")


Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_LENGTH, examples=["wholesale"])]


class CreateOrder(_Request):
    """A new order. Totals are computed from the lines: send ``total`` to have them checked.
    Every amount, and every sum of them (a line's quantity times its price, the subtotal,
    the total), must stay within ±(2^53 − 1) minor units."""

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
    line_items: list[LineItemIn] = Field(min_length=1, max_length=MAX_LINE_ITEMS)
    shipping: Money | None = Field(default=None, description="Shipping charged (default zero).")
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=MAX_DISCOUNTS)
    total: Money | None = Field(
        default=None, description="If given, must equal lines + tax + shipping - discounts, else 422.",
    )
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS_PER_ORDER, description="Tags to start with.")
    note: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE_LENGTH,
                             description="The buyer's note, recorded right after the order.")

    def domain_customer(self) -> Customer:
        return Customer(email=self.customer.email, name=self.customer.name)

    def domain_lines(self) -> list[NewLine]:
        return [NewLine(title=li.title, quantity=li.quantity, unit_price=li.unit_price, tax=li.tax, sku=li.sku)
                for li in self.line_items]

    def domain_discounts(self) -> list[Discount]:
        return [Discount(code=d.code, amount=d.amount) for d in self.discounts]

    def amount_problem(self) -> tuple[str, str] | None:
        """The field whose sum would pass the money bound, and why; None when all fit.
        Checked on plain integers, before the domain builds a single ``Money`` of them."""
        beyond = f"comes to more than {MAX_AMOUNT} minor units, the largest amount Flint holds"
        subtotal = tax = 0
        for index, line in enumerate(self.line_items):
            price = line.quantity * line.unit_price.amount
            if abs(price) > MAX_AMOUNT:
                return f"line_items.{index}.quantity", f"quantity × unit_price {beyond}"
            subtotal += price
            tax += line.tax.amount if line.tax is not None else 0
            if max(abs(subtotal), abs(tax), abs(subtotal + tax)) > MAX_AMOUNT:
                return "line_items", f"the line items {beyond}"
        discount = sum(d.amount.amount for d in self.discounts)
        if abs(discount) > MAX_AMOUNT:
            return "discounts", f"the discounts {beyond}"
        shipping = self.shipping.amount if self.shipping is not None else 0
        if abs(subtotal + tax + shipping) > MAX_AMOUNT or abs(subtotal + tax + shipping - discount) > MAX_AMOUNT:
            return "shipping", f"the lines, tax and shipping {beyond}"
        return None


class AddNote(_Request):
    """A note on the order. An order holds at most 50 notes (every order event carries them
    all); the next one is a 422 ``too_many_notes``."""

    body: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH, examples=["Customer called about delivery."],
                      json_schema_extra={"x-flint-max-notes-per-order": MAX_NOTES_PER_ORDER})


class CancelOrder(_Request):
    reason: str = Field(default="other", min_length=1, max_length=MAX_REASON_LENGTH, examples=["customer asked"])


METADATA_DESCRIPTION = (
    f"The calling app's whole namespace: a JSON object of at most {MAX_METADATA_BYTES} bytes as JSON, "
    "nesting at most 32 levels, integers within ±(2^53 − 1); `{}` removes it.")
METADATA_SCHEMA = {"x-flint-max-bytes": MAX_METADATA_BYTES}


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
    next_cursor: str | None = Field(description="Pass as `starting_after` for the next page; null on the last.")


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
    quantity: int = Field(description="Items sold.")
    refundable_quantity: int = Field(description="Items neither refunded nor being refunded.")
    total: Money = Field(description="`unit_price × quantity + tax`, before the discount.")
    discount: Money = Field(description="The line's share of the order's discounts.")
    refundable_amount: Money = Field(description="`total − discount` less what refunds took from the line.")


class PaymentRefundable(BaseModel):
    payment_id: str
    method: str
    captured: Money
    refunded_or_pending: Money = Field(description="What succeeded and pending refunds take from it.")
    refundable: Money


class Refusal(BaseModel):
    code: str = Field(examples=["not_paid"], description="`not_paid`, `order_voided`, `fully_refunded` or "
                                                          "`pending_refunds_hold_remainder`.")
    message: str


class RefundContext(BaseModel):
    """``GET /v1/orders/{id}/refund-context`` (``Order.refund_context().to_dict()``): the
    figures of the contracts' refund rules (``flint_contracts.refund_rules``), which the refunds
    service decides with, plus the order's titles, SKUs and payment methods."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    currency: str
    captured: Money
    refunded: Money
    pending: Money
    max_refundable: Money = Field(description="`captured − refunded − pending`, never below zero.")
    shipping: Money = Field(description="Shipping charged.")
    shipping_refundable: Money
    lines: list[LineRefundable]
    payments: list[PaymentRefundable] = Field(description="Captured payments, oldest first: refunds go back to "
                                                          "the oldest first.")
    refusal_reasons: list[Refusal] = Field(description="Empty when a refund is possible.")

__all__ = ["MAX_LIMIT", "AddNote", "CancelOrder", "CreateOrder", "OrderList", "RefundContext", "TimelinePage"]
