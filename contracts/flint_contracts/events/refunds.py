"""Refunds, their lines and their parts per payment (``flint.refunds.events.v1``).

A refund's money moves on the order like this: ``refund.created`` adds to
``refund_pending``, ``refund.succeeded`` moves it to ``refunded``, ``refund.failed``
releases it.

A refund goes back to one or more of the order's payments, one part per payment
(``payments``), each run on the processor on its own. When a later part fails after an
earlier one moved money, the refund still succeeds, for what moved: ``amount`` is then the
sum of the parts that succeeded, ``amount_requested`` what was asked, and its lines and
shipping are given back (the items count as not refunded; docs/refunds.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt, model_validator

from flint_contracts import event_types as types
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel, EventData, same_currency
from flint_contracts.events.refund_context import RefundContext
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
from flint_contracts.money import Money, total
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


_EXAMPLE_CONTEXT = {
    "currency": "EUR", "captured": {"amount": 2880, "currency": "EUR"}, "refunded": {"amount": 1500, "currency": "EUR"},
    "pending": {"amount": 0, "currency": "EUR"}, "max_refundable": {"amount": 1380, "currency": "EUR"},
    "shipping": {"amount": 500, "currency": "EUR"}, "shipping_refundable": {"amount": 0, "currency": "EUR"},
    "lines": [{"line_item_id": example_id("lin"), "quantity": 2, "refundable_quantity": 1,
               "total": {"amount": 2380, "currency": "EUR"}, "discount": {"amount": 0, "currency": "EUR"},
               "refundable_amount": {"amount": 1380, "currency": "EUR"}}],
    "payments": [{"payment_id": example_id("pay"), "captured": {"amount": 2880, "currency": "EUR"},
                  "refunded_or_pending": {"amount": 1500, "currency": "EUR"},
                  "refundable": {"amount": 1380, "currency": "EUR"}}],
    "refusals": [],
}


class RefundPayment(ContractModel):
    """The part of a refund that goes back to one payment, and what became of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "payment_id": example_id("pay"),
                    "amount": {"amount": 1500, "currency": "EUR"},
                    "status": "succeeded",
                    "processor_reference": "sbx_re_0001",
                    "failure_reason": None,
                }
            ]
        }
    )

    payment_id: PaymentId = Field(description="The payment the money goes back to.", examples=[example_id("pay")])
    amount: PositiveMoney = Field(description="How much goes back to it.", examples=[{"amount": 1500, "currency": "EUR"}])
    status: RefundStatus = Field(description="pending, then succeeded or failed on the processor.", examples=["succeeded"])
    processor_reference: SafeStr | None = Field(
        default=None, min_length=1, max_length=MAX_REASON_LENGTH,
        description="The processor's id of this part; set once it succeeded.", examples=["sbx_re_0001"],
    )
    failure_reason: SafeStr | None = Field(
        default=None, min_length=1, max_length=MAX_REASON_LENGTH,
        description="Why this part failed (the processor's code, or `not_attempted` when an earlier part failed).",
        examples=["refund_exceeds_charge"],
    )

    @model_validator(mode="after")
    def _outcome_details(self) -> Self:
        if (self.status == "succeeded") != (self.processor_reference is not None):
            raise ValueError("a part has a processor_reference exactly when it succeeded")
        if (self.status == "failed") != (self.failure_reason is not None):
            raise ValueError("a part has a failure_reason exactly when it failed")
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
                    "payments": [
                        {
                            "payment_id": example_id("pay"),
                            "amount": {"amount": 1500, "currency": "EUR"},
                            "status": "succeeded",
                            "processor_reference": "sbx_re_0001",
                            "failure_reason": None,
                        }
                    ],
                    "amount_requested": None,
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
        default=None,
        description="The payment the caller asked to refund to; none: split oldest capture first (see `payments`).",
        examples=[example_id("pay")],
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
        description="The processor's id for the refund, set once it succeeded: of its first part when it has "
        "several (each part in `payments` has its own).",
        examples=["sbx_re_0001"],
    )
    failure_reason: SafeStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Why the processor refused it; set only when it failed.",
        examples=["charge_already_refunded"],
    )
    payments: list[RefundPayment] = Field(
        default_factory=list,
        description="The refund split across the order's payments (oldest capture first, or the payment asked "
        "for), each part with its own outcome. Pending: the parts add up to `amount`; succeeded: the parts "
        "that succeeded do.",
        examples=[[{"payment_id": example_id("pay"), "amount": {"amount": 1500, "currency": "EUR"},
                    "status": "pending", "processor_reference": None, "failure_reason": None}]],
    )
    amount_requested: PositiveMoney | None = Field(
        default=None,
        description="Set only when the refund returned less than was asked: a part failed after an earlier one "
        "had moved money. `amount` is then what moved, and the lines and shipping were given back.",
        examples=[{"amount": 2500, "currency": "EUR"}],
    )
    refund_context: RefundContext | None = Field(
        default=None,
        description="The order's refund context after this event: what can still be refunded, per line, on "
        "shipping and per payment, and why nothing can.",
        examples=[_EXAMPLE_CONTEXT],
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
        if self.amount_requested is not None and (self.status != "succeeded" or self.amount_requested <= self.amount):
            raise ValueError("amount_requested is only for a succeeded refund that returned less than asked")
        return self

    @model_validator(mode="after")
    def _parts_fit(self) -> Self:
        if not self.payments:
            return self
        currency = self.amount.currency
        same_currency(currency, [(f"payments[{i}].amount", part.amount) for i, part in enumerate(self.payments)])
        payment_ids = [part.payment_id for part in self.payments]
        if len(set(payment_ids)) != len(payment_ids):
            raise ValueError("each payment may appear only once in a refund's payments")
        check_parts(self.status, self.amount, self.payments)
        return self

    def check_type(self, type_: str) -> None:
        expected = _STATUS_OF_TYPE[type_]
        if self.status != expected:
            raise ValueError(f"a {type_} event must carry a {expected} refund, this one is {self.status}")


class Part(Protocol):
    """What :func:`check_parts` reads of a part (a ``RefundPayment``, or a service's own value)."""

    @property
    def status(self) -> str: ...

    @property
    def amount(self) -> Money: ...


def check_parts(status: RefundStatus, amount: Money, parts: Sequence[Part]) -> None:
    """A refund's parts agree with its status: pending parts add up to a pending refund,
    the succeeded parts of a succeeded refund add up to what it returned, and a failed refund
    moved nothing. Raises ``ValueError`` saying which rule is broken."""
    statuses = {part.status for part in parts}
    if status == "pending" and statuses != {"pending"}:
        raise ValueError("a pending refund's parts are all pending")
    if status == "failed" and statuses != {"failed"}:
        raise ValueError("a failed refund's parts all failed")
    if status == "succeeded" and ("pending" in statuses or "succeeded" not in statuses):
        raise ValueError("a succeeded refund's parts succeeded or failed, at least one succeeded")
    counted = [part.amount.amount for part in parts if status != "succeeded" or part.status == "succeeded"]
    if status != "failed" and sum(counted) != amount.amount:
        raise ValueError(f"the {'succeeded ' if status == 'succeeded' else ''}parts add up to {sum(counted)}, "
                         f"not the refund's amount {amount.amount}")
