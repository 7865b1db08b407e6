"""The money rules as pure functions (docs/orders.md, "Money rules"), and which timeline
entry a payment or refund records."""

from __future__ import annotations

from datetime import datetime

from flint_contracts.money import Money
from flint_orders.domain.errors import ConflictingEvent
from flint_orders.domain.values import PaymentStatus, Refund, RefundStatus


def payment_status_for(*, total: int, captured: int, refunded: int, canceled: bool) -> PaymentStatus:
    """docs/orders.md, "Money rules": the first rule that matches wins."""
    if canceled and captured == 0:
        return "voided"
    if refunded > 0 and refunded >= captured:
        return "refunded"
    if refunded > 0:
        return "partially_refunded"
    if captured >= total:  # a zero-total order is therefore paid from the start
        return "paid"
    if captured > 0:
        return "partially_paid"
    return "unpaid"


def capture_entry_type(before: str, after: str) -> str:
    if after == "paid":
        return "order.paid" if before != "paid" else "order.updated"  # overpaying is no new "paid"
    if after == "partially_paid":
        return "order.partially_paid"
    return "order.updated"


def refund_entry_type(status: RefundStatus, payment_status: str) -> str:
    if status == "pending":
        return "refund.created"
    if status == "failed":
        return "refund.failed"
    return "order.refunded" if payment_status == "refunded" else "order.partially_refunded"


def advance_refund(existing: Refund, status: RefundStatus, at: datetime, extra: dict) -> Refund | None:
    """pending -> succeeded | failed. The same status again is a duplicate, and `created`
    after a final state arrived late: both return None. Two final states contradict."""
    if status == existing.status or status == "pending":
        return None
    if existing.status != "pending":
        raise ConflictingEvent(f"refund {existing.id} already {existing.status}, cannot become {status}")
    return existing.model_copy(update={"status": status, "updated_at": at, **extra})


def not_below_zero(money: Money) -> Money:
    return money if money.amount > 0 else Money.zero(money.currency)
