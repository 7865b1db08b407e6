"""Commands to the orders service (``flint.orders.commands.v1``, keyed by order id).

The producer picks the new order's id and sends it as the envelope's ``subject``, so a
re-sent ``order.create`` names the same order and is applied once.
"""

from __future__ import annotations

from typing import Self

from pydantic import ConfigDict, Field, StrictInt, model_validator

from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel, EventData, same_currency
from flint_contracts.fields import Email, MerchantId, NonNegativeMoney, Tag, example_id
from flint_contracts.limits import (
    MAX_DISCOUNT_CODE_LENGTH,
    MAX_DISCOUNTS,
    MAX_LINE_ITEMS,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_SKU_LENGTH,
    MAX_TAGS_PER_ORDER,
    MAX_TITLE_LENGTH,
)
from flint_contracts.money import CurrencyCode, Money, total
from flint_contracts.text import SafeStr


def _eur(amount: int) -> dict[str, object]:
    return {"amount": amount, "currency": "EUR"}


_EXAMPLE_LINE = {"sku": "MUG-BLUE", "title": "Blue mug", "quantity": 2, "unit_price": _eur(1500), "tax": _eur(570)}


class Customer(ContractModel):
    """The buyer."""

    email: Email = Field(
        description="Where invoices and receipts go.",
        examples=["ada@example.com"],
    )
    name: SafeStr | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_LENGTH, description="Full name.", examples=["Ada Lovelace"]
    )


class NewLineItem(ContractModel):
    """One line of a new order. The orders service gives it its ``lin_`` id."""

    sku: SafeStr = Field(
        min_length=1, max_length=MAX_SKU_LENGTH, description="The merchant's stock keeping unit.", examples=["MUG-BLUE"]
    )
    title: SafeStr = Field(min_length=1, max_length=MAX_TITLE_LENGTH, description="What the buyer sees.", examples=["Blue mug"])
    quantity: StrictInt = Field(ge=1, description="How many; a whole number of at least 1.", examples=[2])
    unit_price: NonNegativeMoney = Field(description="Price of one item, before tax.", examples=[_eur(1500)])
    tax: NonNegativeMoney = Field(description="Tax for the whole line (all items).", examples=[_eur(570)])

    def amount(self) -> Money:
        """What the line costs: unit price times quantity, plus its tax."""
        return self.unit_price * self.quantity + self.tax


class Discount(ContractModel):
    """A discount taken off the order's total."""

    code: SafeStr = Field(
        min_length=1, max_length=MAX_DISCOUNT_CODE_LENGTH, description="The code the buyer used.", examples=["WELCOME10"]
    )
    amount: NonNegativeMoney = Field(description="Money taken off.", examples=[_eur(300)])


class CreateOrder(EventData):
    """``order.create``: record a new order placed by a buyer.

    ``total() = sum(unit_price * quantity + tax) + shipping - discounts``. Give
    ``expected_total`` to have the command refused when the order would come to another sum.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "merchant_id": example_id("mer"),
                    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
                    "currency": "EUR",
                    "line_items": [_EXAMPLE_LINE],
                    "shipping": _eur(490),
                    "discounts": [{"code": "WELCOME10", "amount": _eur(300)}],
                    "tags": ["wholesale"],
                    "note": "Gift wrap, please.",
                    "expected_total": _eur(3760),
                }
            ]
        }
    )
    subject_prefix = "ord"

    merchant_id: MerchantId = Field(description="The merchant selling.", examples=[example_id("mer")])
    customer: Customer = Field(
        description="The buyer.", examples=[{"email": "ada@example.com", "name": "Ada Lovelace"}]
    )
    currency: CurrencyCode = Field(description="Currency of every amount in the order.", examples=["EUR"])
    line_items: list[NewLineItem] = Field(
        min_length=1,
        max_length=MAX_LINE_ITEMS,
        description="What was bought; at least one line.",
        examples=[[_EXAMPLE_LINE]],
    )
    shipping: NonNegativeMoney = Field(description="Shipping charged, tax included.", examples=[_eur(490)])
    discounts: list[Discount] = Field(
        default_factory=list,
        max_length=MAX_DISCOUNTS,
        description="Discounts taken off the total.",
        examples=[[{"code": "WELCOME10", "amount": _eur(300)}]],
    )
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_TAGS_PER_ORDER, description="Merchant tags.", examples=[["wholesale"]]
    )
    note: SafeStr | None = Field(
        default=None, min_length=1, max_length=MAX_NOTE_LENGTH, description="A note from the buyer.", examples=["Gift wrap, please."]
    )
    expected_total: Money | None = Field(
        default=None,
        description="The total the producer expects; the command is refused when it differs.",
        examples=[_eur(3760)],
    )

    def subtotal(self) -> Money:
        """Sum of the lines, tax included, before shipping and discounts."""
        return total([line.amount() for line in self.line_items], self.currency)

    def discount_total(self) -> Money:
        return total([discount.amount for discount in self.discounts], self.currency)

    def total(self) -> Money:
        """What the buyer owes for the order."""
        return self.subtotal() + self.shipping - self.discount_total()

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        amounts: list[tuple[str, Money]] = [("shipping", self.shipping)]
        for i, line in enumerate(self.line_items):
            amounts += [(f"line_items[{i}].unit_price", line.unit_price), (f"line_items[{i}].tax", line.tax)]
        amounts += [(f"discounts[{i}].amount", d.amount) for i, d in enumerate(self.discounts)]
        if self.expected_total is not None:
            amounts.append(("expected_total", self.expected_total))
        same_currency(self.currency, amounts)
        return self

    @model_validator(mode="after")
    def _total_adds_up(self) -> Self:
        if len(set(self.tags)) != len(self.tags):
            raise ValueError("each tag may appear only once")
        order_total = self.total()
        if order_total.amount < 0:
            raise ValueError(f"discounts of {self.discount_total()} exceed what the order costs")
        if self.expected_total is not None and self.expected_total != order_total:
            raise ValueError(f"expected_total is {self.expected_total} but the order comes to {order_total}")
        return self


class CancelOrder(EventData):
    """``order.cancel``: cancel the order named by the envelope's subject."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Customer changed their mind."}]})
    subject_prefix = "ord"

    reason: SafeStr = Field(
        min_length=1, max_length=MAX_REASON_LENGTH, description="Why it is canceled, shown on the timeline.",
        examples=["Customer changed their mind."],
    )


class AddNote(EventData):
    """``order.add_note``: add a note to the order named by the envelope's subject."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"body": "Called the buyer about the delivery.", "actor": {"type": "merchant", "id": example_id("mer")}}
            ]
        }
    )
    subject_prefix = "ord"

    body: SafeStr = Field(
        min_length=1, max_length=MAX_NOTE_LENGTH, description="The note's text.", examples=["Called the buyer about the delivery."]
    )
    actor: Actor = Field(description="Who wrote it.", examples=[{"type": "merchant", "id": example_id("mer")}])
