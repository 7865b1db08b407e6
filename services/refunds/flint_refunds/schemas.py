"""What the refunds API reads and writes, as pydantic models (they also make the OpenAPI
document). Requests are the contracts' ``RefundRequest`` plus the order (and, to refund, a
reason and a note), so the API accepts exactly what the refund rules read; unknown fields are
refused (a misspelt ``shiping`` must be an error, not a refund without shipping)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from flint_contracts.events import Actor, RefundLine, RefundPayment
from flint_contracts.fields import MerchantId, OrderId, PaymentId, RefundId, example_id
from flint_contracts.limits import MAX_NOTE_LENGTH
from flint_contracts.literals import RefundReason, RefundStatus
from flint_contracts.money import Money
from flint_contracts.refund_rules import RefundQuote, RefundRequest
from flint_contracts.text import SafeStr

_LINE = example_id("lin")


class QuoteRefund(RefundRequest):
    """What would a refund of these items, this shipping and/or this amount return?"""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": example_id("ord"), "lines": [{"line_item_id": _LINE, "quantity": 2}], "shipping": "remaining"},
    ]})

    order_id: OrderId = Field(description="The order to refund.")


class CreateRefund(QuoteRefund):
    """A refund: the quote's request, why, and a note. The total is the lines' money (tax and
    discount shares included), plus shipping, plus ``amount``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": example_id("ord"), "lines": [{"line_item_id": _LINE, "quantity": 2}],
         "reason": "returned_items", "note": "Two mugs came back unopened."},
        {"order_id": example_id("ord"), "amount": {"amount": 500, "currency": "EUR"}, "reason": "goodwill"},
    ]})

    reason: RefundReason = Field(description="Why the money goes back.", examples=["returned_items"])
    note: SafeStr | None = Field(default=None, min_length=1, max_length=MAX_NOTE_LENGTH,
                                 description="Free text from whoever asks; shown on the order's timeline.",
                                 examples=["Two mugs came back unopened."])


class QuoteOut(RefundQuote):
    """``POST /v1/refunds/quote``: what the request would refund, and why it would be refused.
    ``refusals`` is empty when a refund of it would be accepted right now."""

    object: Literal["refund_quote"] = "refund_quote"
    order_id: OrderId = Field(description="The order.")


class RefundOut(BaseModel):
    """A refund (``Refund.to_dict()``): pending, then succeeded or failed on the processor."""

    model_config = ConfigDict(extra="forbid")

    object: Literal["refund"] = "refund"
    id: RefundId
    merchant_id: MerchantId
    order_id: OrderId
    status: RefundStatus = Field(description="`pending` until the processor answered every part it ran.")
    currency: str = Field(description="The order's currency.", examples=["EUR"])
    amount: Money = Field(description="What the refund returns (what moved, once it succeeded).")
    amount_requested: Money | None = Field(description="Set only when it returned less than asked: a part failed "
                                                       "after another one had moved money.")
    lines: list[RefundLine] = Field(description="Items refunded per line, with their money (tax and discount "
                                                "shares included).")
    shipping: Money = Field(description="Shipping refunded.")
    payment_id: PaymentId | None = Field(description="The payment asked for; none: split oldest capture first.")
    payments: list[RefundPayment] = Field(description="The refund per payment, each part with its outcome.")
    reason: RefundReason
    note: str | None
    actor: Actor = Field(description="Who asked: the app, or the merchant.")
    processor_reference: str | None = Field(description="The processor's id of the first part that succeeded.")
    failure_reason: str | None = Field(description="Why it failed: the processor's code for the first part.")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RefundList(BaseModel):
    object: Literal["list"] = "list"
    data: list[RefundOut]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `starting_after` for the next page; null on the last.")


__all__ = ["CreateRefund", "QuoteOut", "QuoteRefund", "RefundList", "RefundOut"]
