"""The plain data the refund rules read: one order's money, and the refunds already asked for.

The refunds service builds an :class:`OrderMoney` from its projection of order, payment and
refund events; the orders service from its order record. Both hand it to the same rules
(:func:`~flint_contracts.refund_rules.quote_refund`,
:func:`~flint_contracts.refund_rules.refund_context`), so they cannot disagree.

Every amount is in the order's currency; the model refuses anything else, and refunds that
name lines or payments the order does not have, because rules computed on such data would
be wrong without saying so.
"""

from __future__ import annotations

from typing import Self

from pydantic import AwareDatetime, Field, StrictInt, model_validator

from flint_contracts.events.base import ContractModel, same_currency
from flint_contracts.events.refunds import RefundLine, RefundStatus
from flint_contracts.fields import (
    LineItemId,
    NonNegativeMoney,
    PaymentId,
    PositiveMoney,
    RefundId,
    example_id,
)
from flint_contracts.limits import MAX_DISCOUNTS, MAX_LINE_ITEMS
from flint_contracts.money import CurrencyCode, Money

_EUR_1000 = {"amount": 1000, "currency": "EUR"}


class OrderLine(ContractModel):
    """One line item as sold: ``unit_price * quantity + tax`` before any discount."""

    line_item_id: LineItemId = Field(description="The order's line item.", examples=[example_id("lin")])
    quantity: StrictInt = Field(ge=1, description="Items sold on the line.", examples=[3])
    unit_price: NonNegativeMoney = Field(description="Price of one item before tax.", examples=[_EUR_1000])
    tax: NonNegativeMoney = Field(description="Tax of the whole line (all items).", examples=[_EUR_1000])

    def subtotal(self) -> int:
        """``unit_price * quantity`` in minor units: the weight the line's discount share follows."""
        return self.unit_price.amount * self.quantity


class Capture(ContractModel):
    """A captured payment. Failed payments took nothing and are left out."""

    payment_id: PaymentId = Field(description="The payment.", examples=[example_id("pay")])
    amount: PositiveMoney = Field(description="What was captured.", examples=[_EUR_1000])
    captured_at: AwareDatetime = Field(
        description="When; refunds go back to the oldest capture first.", examples=["2026-11-27T12:00:00Z"]
    )


class PaymentShare(ContractModel):
    """The part of a refund that goes back to one payment."""

    payment_id: PaymentId = Field(description="The payment the money goes back to.", examples=[example_id("pay")])
    amount: PositiveMoney = Field(description="How much goes back to it.", examples=[_EUR_1000])


class PastRefund(ContractModel):
    """A refund already asked for. Pending and succeeded refunds take room; failed ones do not."""

    refund_id: RefundId = Field(description="The refund.", examples=[example_id("rfd")])
    status: RefundStatus = Field(description="Where it stands; a failed refund is ignored.", examples=["pending"])
    amount: PositiveMoney = Field(description="Its total.", examples=[_EUR_1000])
    lines: list[RefundLine] = Field(default_factory=list, description="What it took from each line.")
    shipping: NonNegativeMoney | None = Field(default=None, description="Shipping it took; none when absent.")
    payments: list[PaymentShare] = Field(
        default_factory=list,
        description="How it was split across payments. Empty: split by the allocation rule "
        "(oldest capture first), in the order the refunds are listed.",
    )

    @property
    def holds_room(self) -> bool:
        return self.status != "failed"

    @model_validator(mode="after")
    def _parts_fit(self) -> Self:
        currency = self.amount.currency
        named = [(f"lines[{i}].amount", line.amount) for i, line in enumerate(self.lines)]
        named += [(f"payments[{i}].amount", share.amount) for i, share in enumerate(self.payments)]
        if self.shipping is not None:
            named.append(("shipping", self.shipping))
        same_currency(currency, named)
        itemised = sum(line.amount.amount for line in self.lines) + self.shipping_amount
        if itemised > self.amount.amount:
            raise ValueError(f"refund {self.refund_id}: lines and shipping come to more than its amount")
        if self.payments and sum(share.amount.amount for share in self.payments) != self.amount.amount:
            raise ValueError(f"refund {self.refund_id}: its payment shares do not add up to its amount")
        return self

    @property
    def shipping_amount(self) -> int:
        return 0 if self.shipping is None else self.shipping.amount


class OrderMoney(ContractModel):
    """Everything about one order's money the refund rules need, and nothing else."""

    currency: CurrencyCode = Field(description="The order's currency.", examples=["EUR"])
    lines: list[OrderLine] = Field(max_length=MAX_LINE_ITEMS, description="The order's line items.")
    shipping: NonNegativeMoney = Field(description="Shipping charged, tax included.", examples=[_EUR_1000])
    discounts: list[NonNegativeMoney] = Field(
        default_factory=list,
        max_length=MAX_DISCOUNTS,
        description="Discounts taken off the order; shared out over the lines, never over shipping.",
    )
    captures: list[Capture] = Field(default_factory=list, description="Captured payments.")
    refunds: list[PastRefund] = Field(
        default_factory=list, description="Refunds asked for so far, oldest first (any status)."
    )
    canceled: bool = Field(default=False, description="The order was canceled.")

    def discount_total(self) -> int:
        return sum(discount.amount for discount in self.discounts)

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        named: list[tuple[str, Money]] = [("shipping", self.shipping)]
        for i, line in enumerate(self.lines):
            named += [(f"lines[{i}].unit_price", line.unit_price), (f"lines[{i}].tax", line.tax)]
        named += [(f"discounts[{i}]", discount) for i, discount in enumerate(self.discounts)]
        named += [(f"captures[{i}].amount", capture.amount) for i, capture in enumerate(self.captures)]
        named += [(f"refunds[{i}].amount", refund.amount) for i, refund in enumerate(self.refunds)]
        same_currency(self.currency, named)
        return self

    @model_validator(mode="after")
    def _refers_to_itself(self) -> Self:
        _unique("line item", [line.line_item_id for line in self.lines])
        _unique("payment", [capture.payment_id for capture in self.captures])
        _unique("refund", [refund.refund_id for refund in self.refunds])
        subtotal = sum(line.subtotal() for line in self.lines)
        if self.discount_total() > subtotal:
            raise ValueError(f"discounts of {self.discount_total()} exceed the subtotal of {subtotal}")
        line_ids = {line.line_item_id for line in self.lines}
        payment_ids = {capture.payment_id for capture in self.captures}
        for refund in self.refunds:
            for line in refund.lines:
                if line.line_item_id not in line_ids:
                    raise ValueError(f"refund {refund.refund_id} names line {line.line_item_id}, not on the order")
            for share in refund.payments:
                if share.payment_id not in payment_ids:
                    raise ValueError(f"refund {refund.refund_id} names payment {share.payment_id}, not captured")
        return self


def _unique(noun: str, ids: list[str]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"each {noun} may appear only once")
