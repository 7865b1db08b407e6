"""Payments captured or failed against an order (``flint.payments.events.v1``, internal)."""

from __future__ import annotations

from pydantic import AwareDatetime, ConfigDict, Field

from flint_contracts.events.base import EventData
from flint_contracts.fields import InvoiceId, OrderId, PaymentId, PositiveMoney, example_id
from flint_contracts.literals import PaymentMethod

_EXAMPLE_TIME = "2026-11-27T12:00:00Z"


class _Payment(EventData):
    subject_field = "order_id"

    payment_id: PaymentId = Field(description="The payment.", examples=[example_id("pay")])
    order_id: OrderId = Field(description="The order the payment is for.", examples=[example_id("ord")])
    amount: PositiveMoney = Field(
        description="The amount captured or attempted.", examples=[{"amount": 1250, "currency": "EUR"}]
    )
    method: PaymentMethod = Field(description="How the buyer paid.", examples=["card"])
    processor: str = Field(
        min_length=1, description="The PaymentProcessor that ran it.", examples=["sandbox"]
    )
    invoice_id: InvoiceId | None = Field(
        default=None,
        description="The invoice paid through its hosted page, if any.",
        examples=[example_id("inv")],
    )


class PaymentCaptured(_Payment):
    """``payment.captured``: money was taken; the order's captured amount rises."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "payment_id": example_id("pay"),
                    "order_id": example_id("ord"),
                    "amount": {"amount": 1250, "currency": "EUR"},
                    "method": "card",
                    "processor": "sandbox",
                    "processor_reference": "sbx_ch_0001",
                    "invoice_id": None,
                    "captured_at": _EXAMPLE_TIME,
                }
            ]
        }
    )

    processor_reference: str = Field(
        min_length=1, description="The processor's id for the charge.", examples=["sbx_ch_0001"]
    )
    captured_at: AwareDatetime = Field(description="When it was captured.", examples=[_EXAMPLE_TIME])


class PaymentFailed(_Payment):
    """``payment.failed``: an attempt was declined or errored; nothing was taken."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "payment_id": example_id("pay"),
                    "order_id": example_id("ord"),
                    "amount": {"amount": 1250, "currency": "EUR"},
                    "method": "card",
                    "processor": "sandbox",
                    "failure_code": "card_declined",
                    "failure_message": "The card was declined.",
                    "invoice_id": example_id("inv"),
                    "failed_at": _EXAMPLE_TIME,
                }
            ]
        }
    )

    failure_code: str = Field(
        min_length=1, description="Machine-readable reason.", examples=["card_declined"]
    )
    failure_message: str = Field(
        description="Reason in words, safe to show a merchant.", examples=["The card was declined."]
    )
    failed_at: AwareDatetime = Field(description="When it failed.", examples=[_EXAMPLE_TIME])


__all__ = ["PaymentCaptured", "PaymentFailed", "PaymentMethod"]
