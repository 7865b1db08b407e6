"""An order's refund context as a model: what can still be refunded, and why nothing can.

The figures are computed by :func:`flint_contracts.refund_rules.refund_context`; the models
live here, beside the events, because refund events carry the context after each refund
(``RefundData.refund_context``) and the rules build on the events' own models (refund lines),
so the models cannot live in ``refund_rules`` without an import cycle.
"""

from __future__ import annotations

from pydantic import Field

from flint_contracts.events.base import ContractModel
from flint_contracts.fields import LineItemId, PaymentId
from flint_contracts.money import Money


class Refusal(ContractModel):
    """One reason a refund would be refused (codes: ``flint_contracts.refund_rules.refusals``)."""

    code: str = Field(description="Stable, machine-readable reason.", examples=["exceeds_refundable"])
    message: str = Field(
        description="The reason in words.",
        examples=["30.00 EUR is more than the 20.00 EUR still refundable."],
    )
    field: str | None = Field(
        default=None,
        description="The part of the request it is about (`lines[0].quantity`, `shipping`), if one.",
        examples=["lines[0].quantity"],
    )


class LineRefundable(ContractModel):
    """One line: what it was sold for, and what refunds have not taken yet."""

    line_item_id: LineItemId = Field(description="The order's line item.")
    quantity: int = Field(description="Items sold.")
    refundable_quantity: int = Field(description="Items neither refunded nor being refunded.")
    total: Money = Field(description="`unit_price * quantity + tax`, before the discount.")
    discount: Money = Field(description="The line's share of the order's discount.")
    refundable_amount: Money = Field(description="`total - discount` minus what refunds took from the line.")


class PaymentRefundable(ContractModel):
    """One captured payment: what refunds have taken from it."""

    payment_id: PaymentId = Field(description="The payment.")
    captured: Money = Field(description="What it captured.")
    refunded_or_pending: Money = Field(description="What succeeded and pending refunds take from it.")
    refundable: Money = Field(description="What it has left.")


class RefundContext(ContractModel):
    """What can still be refunded, overall, per line, on shipping and per payment.

    The overall ``max_refundable`` applies on top of the line, shipping and payment figures.
    """

    currency: str = Field(description="The order's currency.")
    captured: Money = Field(description="Sum of captured payments.")
    refunded: Money = Field(description="Sum of succeeded refunds.")
    pending: Money = Field(description="Sum of pending refunds.")
    max_refundable: Money = Field(description="`captured - refunded - pending`, never below zero.")
    shipping: Money = Field(description="Shipping charged.")
    shipping_refundable: Money = Field(description="Shipping not yet refunded or being refunded.")
    lines: list[LineRefundable] = Field(description="Per line item, in the order's order.")
    payments: list[PaymentRefundable] = Field(description="Per captured payment, oldest first.")
    refusals: list[Refusal] = Field(description="Why no refund is possible right now; empty when one is.")


__all__ = ["LineRefundable", "PaymentRefundable", "RefundContext", "Refusal"]
