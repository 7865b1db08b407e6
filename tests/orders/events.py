"""Payment, refund and invoice events as their producers will publish them (contracts models),
for tests that play the part of those services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import PaymentCaptured, PaymentFailed, RefundData, build_envelope
from flint_contracts.ids import new_id


def money(amount: int, currency: str = "EUR") -> dict:
    return {"amount": amount, "currency": currency}


def payment_captured(order: dict, amount: int, *, currency: str = "EUR", payment_id: str | None = None) -> EventEnvelope:
    data = PaymentCaptured(
        payment_id=payment_id or new_id("pay"), order_id=order["id"], amount=money(amount, currency), method="card",
        processor="sandbox", processor_reference=f"sbx_ch_{new_id('pay')[-6:]}", captured_at=datetime.now(UTC),
    )
    return build_envelope(types.PAYMENT_CAPTURED, data, source="flint.checkout", merchant_id=order["merchant_id"])


def payment_failed(order: dict, amount: int) -> EventEnvelope:
    data = PaymentFailed(
        payment_id=new_id("pay"), order_id=order["id"], amount=money(amount), method="card", processor="sandbox",
        failure_code="card_declined", failure_message="The card was declined.", failed_at=datetime.now(UTC),
    )
    return build_envelope(types.PAYMENT_FAILED, data, source="flint.checkout", merchant_id=order["merchant_id"])


def refund(order: dict, type_: str, refund_id: str, amount: int, *, lines: list[dict[str, Any]] = (),
           reason: str = "defective") -> EventEnvelope:
    status = {types.REFUND_CREATED: "pending", types.REFUND_SUCCEEDED: "succeeded", types.REFUND_FAILED: "failed"}[type_]
    data = RefundData(
        refund_id=refund_id, order_id=order["id"], status=status, amount=money(amount), lines=list(lines),
        shipping=money(0), reason=reason, note="Arrived broken.", actor={"type": "app", "id": new_id("app")},
        created_at=datetime.now(UTC),
        processor_reference="sbx_re_0001" if status == "succeeded" else None,
        failure_reason="processor_declined" if status == "failed" else None,
    )
    return build_envelope(type_, data, source="flint.refunds", merchant_id=order["merchant_id"])


def invoice(order: dict, type_: str, invoice_id: str, status: str, amount_due: int, **fields: Any) -> EventEnvelope:
    from datetime import date

    from flint_contracts.events import InvoiceData

    data = InvoiceData(invoice_id=invoice_id, order_id=order["id"], status=status, amount_due=money(amount_due),
                       amount_paid=money(0), due_date=date(2026, 12, 11),
                       hosted_url="https://pay.flint.example/pay/abc", **fields)
    return build_envelope(type_, data, source="flint.invoicing", merchant_id=order["merchant_id"])
