"""The money rules as pure functions (docs/orders.md, "Money rules"), and which timeline
entry a payment or refund records."""

from __future__ import annotations

from flint_contracts import event_types as types
from flint_contracts.literals import PaymentStatus, RefundStatus
from flint_orders.domain.errors import ConflictingEvent
from flint_orders.domain.values import Refund


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
        return types.ORDER_PAID if before != "paid" else types.ORDER_UPDATED  # overpaying is no new "paid"
    if after == "partially_paid":
        return types.ORDER_PARTIALLY_PAID
    return types.ORDER_UPDATED


def refund_entry_type(status: RefundStatus, payment_status: str) -> str:
    if status == "pending":
        return types.REFUND_CREATED
    if status == "failed":
        return types.REFUND_FAILED
    return types.ORDER_REFUNDED if payment_status == "refunded" else types.ORDER_PARTIALLY_REFUNDED


def advances(existing: Refund, status: RefundStatus) -> bool:
    """pending -> succeeded | failed. The same status again is a duplicate, and `created`
    after a final state arrived late: both False. Two final states contradict."""
    if status == existing.status or status == "pending":
        return False
    if existing.status != "pending":
        raise ConflictingEvent(f"refund {existing.id} already {existing.status}, cannot become {status}")
    return True
