"""Refunds and their lines (``flint.refunds.events.v1``).

A refund's money moves on the order like this: ``refund.created`` adds to
``refund_pending``, ``refund.succeeded`` moves it to ``refunded``, ``refund.failed``
releases it.
"""

from __future__ import annotations

from typing import Self

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt, model_validator

from flint_contracts import event_types as types
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel, EventData, same_currency
from flint_contracts.fields import (
    LineItemId,
    NonNegativeMoney,
    OrderId,
    PaymentId,
    PositiveMoney,
    RefundId,
    example_id,
)
from flint_contracts.limits import MAX_NOTE_LENGTH, MAX_REASON_LENGTH
from flint_contracts.literals import RefundReason, RefundStatus
from flint_contracts.money import total
from flint_contracts.text import SafeStr


_STATUS_OF_TYPE: dict[str, RefundStatus] = {
    types.REFUND_CREATED: "pending",
    types.REFUND_SUCCEEDED: "succeeded",
    types.REFUND_FAILED: "failed",
}


class RefundLine(ContractModel):
    """Part of a refund tied to one line item: items given back and/or money for that line."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"line_item_id": example_id("lin"), "quantity": 1, "amount": {"amount": 1000, "currency": "EUR"}}
            ]
        }
    )

    line_item_id: LineItemId = Field(description="The order's line item.", examples=[example_id("lin")])
    quantity: StrictInt = Field(
        ge=0,
        description="Items refunded; 0 when only money is refunded on the line (a price adjustment).",
        examples=[1],
    )
    amount: NonNegativeMoney = Field(
        description="Money refunded for this line, tax included.", examples=[{"amount": 1000, "currency": "EUR"}]
    )

    @model_validator(mode="after")
    def _refunds_something(self) -> Self:
        if self.quantity == 0 and self.amount.amount == 0:
            raise ValueError("a refund line must refund items or money")
        return self


class RefundData(EventData):
    """``refund.created`` / ``refund.succeeded`` / ``refund.failed``: the whole refund, with
    its lines, amounts, reason and actor, so a plugin never has to look it up."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "refund_id": example_id("rfd"),
                    "order_id": example_id("ord"),
                    "status": "succeeded",
                    "amount": {"amount": 1500, "currency": "EUR"},
                    "lines": [
                        {
                            "line_item_id": example_id("lin"),
                            "quantity": 1,
                            "amount": {"amount": 1000, "currency": "EUR"},
                        }
                    ],
                    "shipping": {"amount": 500, "currency": "EUR"},
                    "payment_id": example_id("pay"),
                    "reason": "defective",
                    "note": "Arrived broken.",
                    "actor": {"type": "app", "id": example_id("app")},
                    "created_at": "2026-11-27T12:00:00Z",
                    "processor_reference": "sbx_re_0001",
                    "failure_reason": None,
                }
            ]
        }
    )
    subject_field = "order_id"

    refund_id: RefundId = Field(description="The refund.", examples=[example_id("rfd")])
    order_id: OrderId = Field(description="The order refunded.", examples=[example_id("ord")])
    status: RefundStatus = Field(description="Where the refund stands.", examples=["pending"])
    amount: PositiveMoney = Field(
        description="Total of the refund: its lines, shipping and any amount not tied to a line.",
        examples=[{"amount": 1500, "currency": "EUR"}],
    )
    lines: list[RefundLine] = Field(
        default_factory=list,
        description="Refunded line items; empty for an amount-only refund.",
        examples=[[{"line_item_id": example_id("lin"), "quantity": 1, "amount": {"amount": 1000, "currency": "EUR"}}]],
    )
    shipping: NonNegativeMoney = Field(
        description="Shipping refunded; may be zero.", examples=[{"amount": 500, "currency": "EUR"}]
    )
    payment_id: PaymentId | None = Field(
        default=None, description="The payment the money goes back to.", examples=[example_id("pay")]
    )
    reason: RefundReason = Field(description="Why it was refunded.", examples=["requested_by_customer"])
    note: SafeStr | None = Field(
        default=None, max_length=MAX_NOTE_LENGTH, description="Free text from whoever asked.", examples=["Arrived broken."]
    )
    actor: Actor = Field(description="Who asked for the refund.", examples=[{"type": "app", "id": example_id("app")}])
    created_at: AwareDatetime = Field(description="When the refund was asked for.", examples=["2026-11-27T12:00:00Z"])
    processor_reference: str | None = Field(
        default=None,
        min_length=1,
        description="The processor's id for the refund; set once it succeeded.",
        examples=["sbx_re_0001"],
    )
    failure_reason: SafeStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Why the processor refused it; set only when it failed.",
        examples=["charge_already_refunded"],
    )

    @model_validator(mode="after")
    def _amounts_add_up(self) -> Self:
        currency = self.amount.currency
        parts = [(f"lines[{i}].amount", line.amount) for i, line in enumerate(self.lines)]
        same_currency(currency, [*parts, ("shipping", self.shipping)])
        line_ids = [line.line_item_id for line in self.lines]
        if len(set(line_ids)) != len(line_ids):
            raise ValueError("each line item may appear only once in a refund")
        itemised = total([amount for _, amount in parts], currency) + self.shipping
        if itemised > self.amount:
            raise ValueError(f"lines and shipping come to {itemised}, more than the refund's amount {self.amount}")
        return self

    @model_validator(mode="after")
    def _status_details(self) -> Self:
        if self.status == "failed" and self.failure_reason is None:
            raise ValueError("a failed refund needs its failure_reason")
        if self.status != "failed" and self.failure_reason is not None:
            raise ValueError(f"failure_reason is only for failed refunds, this one is {self.status}")
        if self.status == "succeeded" and self.processor_reference is None:
            raise ValueError("a succeeded refund needs the processor_reference")
        return self

    def check_type(self, type_: str) -> None:
        expected = _STATUS_OF_TYPE[type_]
        if self.status != expected:
            raise ValueError(f"a {type_} event must carry a {expected} refund, this one is {self.status}")
