"""What a caller asks to refund: items of lines, shipping, and/or a plain amount."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt

from flint_contracts.events.base import ContractModel
from flint_contracts.fields import LineItemId, NonNegativeMoney, PaymentId, PositiveMoney, example_id
from flint_contracts.limits import MAX_LINE_ITEMS


class RequestedLine(ContractModel):
    """Items of one line to refund; their money (tax and discount shares included) follows."""

    line_item_id: LineItemId = Field(description="The order's line item.", examples=[example_id("lin")])
    quantity: StrictInt = Field(ge=1, description="How many items of the line.", examples=[2])


class RefundRequest(ContractModel):
    """A refund as asked for. Its total is the lines' money, plus shipping, plus ``amount``."""

    lines: list[RequestedLine] = Field(
        default_factory=list,
        max_length=MAX_LINE_ITEMS,
        description="Items to refund, by line.",
        examples=[[{"line_item_id": example_id("lin"), "quantity": 2}]],
    )
    shipping: Literal["remaining"] | NonNegativeMoney | None = Field(
        default=None,
        description='Shipping to refund: `"remaining"` for all not yet refunded, or an amount.',
        examples=["remaining", {"amount": 300, "currency": "EUR"}],
    )
    amount: PositiveMoney | None = Field(
        default=None,
        description="A plain amount on top, tied to no line (goodwill, a price adjustment).",
        examples=[{"amount": 500, "currency": "EUR"}],
    )
    payment_id: PaymentId | None = Field(
        default=None,
        description="Refund to this payment only; default: split oldest capture first.",
        examples=[example_id("pay")],
    )
