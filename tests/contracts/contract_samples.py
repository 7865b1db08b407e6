"""Valid contract payloads with fresh ids, for the contract tests. Change one field to break one rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flint_contracts.events import (
    Actor,
    AddNote,
    CancelOrder,
    CreateOrder,
    Customer,
    Discount,
    InstallData,
    InvoiceData,
    NewLineItem,
    PaymentCaptured,
    PaymentFailed,
    RefundData,
    RefundLine,
)
from flint_contracts.ids import new_id
from flint_contracts.money import Money

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def payment_captured(**changes: Any) -> PaymentCaptured:
    fields = dict(
        payment_id=new_id("pay"), order_id=new_id("ord"), amount=eur(4200), method="card",
        processor="sandbox", processor_reference="sbx_ch_1", captured_at=NOW,
    )  # fmt: skip
    return PaymentCaptured(**(fields | changes))


def payment_failed(**changes: Any) -> PaymentFailed:
    fields = dict(
        payment_id=new_id("pay"), order_id=new_id("ord"), amount=eur(4200), method="invoice",
        processor="sandbox", failure_code="card_declined", failure_message="The card was declined.",
        invoice_id=new_id("inv"), failed_at=NOW,
    )  # fmt: skip
    return PaymentFailed(**(fields | changes))


def refund_line(**changes: Any) -> RefundLine:
    return RefundLine(**(dict(line_item_id=new_id("lin"), quantity=1, amount=eur(1000)) | changes))


def refund(**changes: Any) -> RefundData:
    fields = dict(
        refund_id=new_id("rfd"), order_id=new_id("ord"), status="pending", amount=eur(1500),
        lines=[refund_line()], shipping=eur(500), payment_id=new_id("pay"), reason="defective",
        note="Arrived broken.", actor=Actor(type="app", id=new_id("app")), created_at=NOW,
    )  # fmt: skip
    return RefundData(**(fields | changes))


def invoice(**changes: Any) -> InvoiceData:
    fields = dict(
        invoice_id=new_id("inv"), order_id=new_id("ord"), status="open", amount_due=eur(4200),
        amount_paid=eur(0), due_date=date(2026, 12, 11), hosted_url="https://pay.flint.test/pay/abc",
    )  # fmt: skip
    return InvoiceData(**(fields | changes))


def install(**changes: Any) -> InstallData:
    fields = dict(
        install_id=new_id("ins"), app_id=new_id("app"), merchant_id=new_id("mer"),
        scopes=["orders:read", "refunds:write"], status="active", occurred_at=NOW,
    )  # fmt: skip
    return InstallData(**(fields | changes))


def line_item(**changes: Any) -> NewLineItem:
    fields = dict(sku="MUG-BLUE", title="Blue mug", quantity=2, unit_price=eur(1500), tax=eur(570))
    return NewLineItem(**(fields | changes))


def create_order(**changes: Any) -> CreateOrder:
    fields = dict(
        merchant_id=new_id("mer"), customer=Customer(email="ada@example.com", name="Ada Lovelace"),
        currency="EUR", line_items=[line_item()], shipping=eur(490),
        discounts=[Discount(code="WELCOME10", amount=eur(300))], tags=["gift"], note="Wrap it.",
    )  # fmt: skip
    return CreateOrder(**(fields | changes))


def cancel_order(**changes: Any) -> CancelOrder:
    return CancelOrder(**(dict(reason="Customer changed their mind.") | changes))


def add_note(**changes: Any) -> AddNote:
    return AddNote(**(dict(body="Called the buyer.", actor=Actor(type="merchant", id=new_id("mer"))) | changes))
