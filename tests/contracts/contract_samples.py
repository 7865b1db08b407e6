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
    MerchantData,
    NewLineItem,
    PaymentCaptured,
    PaymentFailed,
    RefundData,
    OrderEventData,
    RefundLine,
    WebhookEndpointDisabled,
)
from flint_contracts.ids import new_id
from flint_contracts.order import EXAMPLE_ORDER, OrderRecord
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


def order(**changes: Any) -> OrderRecord:
    """The documented example order with fresh ids."""
    fields = EXAMPLE_ORDER | dict(id=new_id("ord"), merchant_id=new_id("mer"))
    fields["line_items"] = [line | {"id": new_id("lin")} for line in EXAMPLE_ORDER["line_items"]]
    return OrderRecord.model_validate(fields | changes)


def order_event(timeline_type: str = "order.created", **changes: Any) -> OrderEventData:
    """An order event's data; the detail its type needs is filled in (override any field)."""
    record = changes.pop("order", None) or order()
    details: dict[str, Any] = {
        "order.created": {"number": record.number},
        "order.canceled": {"reason": "Customer changed their mind."},
        "order.note_added": {"note": {"id": new_id("not"), "body": "Wrap it.", "actor": {"type": "buyer"},
                                      "at": NOW}},
        "order.metadata_updated": {"app_id": new_id("app"), "metadata": {"points": 3}},
        "order.updated": {"added": "vip"},
    }
    payment = {"id": new_id("pay"), "amount": eur(3760), "method": "card", "status": "captured", "at": NOW}
    refund = {"id": new_id("rfd"), "status": "succeeded", "amount": eur(1000), "lines": [], "shipping": eur(0),
              "reason": "goodwill", "actor": {"type": "merchant", "id": record.merchant_id},
              "created_at": NOW, "updated_at": NOW, "processor_reference": "sbx_re_1"}
    for paying in ("order.paid", "order.partially_paid"):
        details[paying] = {"payment": payment}
    for refunding in ("order.refunded", "order.partially_refunded", "refund.created", "refund.failed"):
        details[refunding] = {"refund": refund}
    fields = dict(order=record, timeline_type=timeline_type, actor=Actor(type="system", id="flint.checkout"),
                  changes={}, **details.get(timeline_type, {}))
    return OrderEventData.model_validate(fields | changes)


def webhook_endpoint_disabled(**changes: Any) -> WebhookEndpointDisabled:
    fields = dict(
        webhook_endpoint_id=new_id("whe"), install_id=new_id("ins"), app_id=new_id("app"), merchant_id=new_id("mer"),
        url="https://plugin.example/hooks", reason="every delivery failed for 3 days", failing_since=NOW,
        failed_attempts=40, last_delivery_id=new_id("dlv"), disabled_at=NOW,
    )  # fmt: skip
    return WebhookEndpointDisabled(**(fields | changes))


def merchant(**changes: Any) -> MerchantData:
    return MerchantData(**({"merchant_id": new_id("mer"), "name": "Acme Outdoor", "created_at": NOW} | changes))
