"""An order's refund context: what can still be refunded, and why a refund would be refused now.

The orders service shows it at ``GET /v1/orders/{id}/refund-context``; the refunds service
checks requests against the same figures (:func:`~flint_contracts.refund_rules.quote_refund`).
"""

from __future__ import annotations

from collections.abc import Callable

from flint_contracts.events.refund_context import LineRefundable, PaymentRefundable, RefundContext
from flint_contracts.money import Money
from flint_contracts.refund_rules import refusals as codes
from flint_contracts.refund_rules.order_money import OrderMoney
from flint_contracts.refund_rules.refusals import Refusal
from flint_contracts.refund_rules.room import LineRoom, PaymentRoom, Room, room_of


def refund_context(order: OrderMoney) -> RefundContext:
    """The refund context of ``order``."""
    room = room_of(order)
    money = room.money
    return RefundContext(
        currency=room.currency,
        captured=money(room.captured),
        refunded=money(room.refunded),
        pending=money(room.pending),
        max_refundable=money(room.max_refundable),
        shipping=money(room.shipping),
        shipping_refundable=money(room.shipping_remaining),
        lines=[_line(line, money) for line in room.lines.values()],
        payments=[_payment(payment, money) for payment in room.payments],
        refusals=_refusals(room, order.canceled),
    )


def _line(line: LineRoom, money: Callable[[int], Money]) -> LineRefundable:
    return LineRefundable(
        line_item_id=line.line.line_item_id,
        quantity=line.line.quantity,
        refundable_quantity=line.remaining_quantity,
        total=money(line.line.subtotal() + line.line.tax.amount),
        discount=money(line.discount),
        refundable_amount=money(line.remaining_amount),
    )


def _payment(payment: PaymentRoom, money: Callable[[int], Money]) -> PaymentRefundable:
    return PaymentRefundable(
        payment_id=payment.payment_id,
        captured=money(payment.captured),
        refunded_or_pending=money(payment.taken),
        refundable=money(payment.remaining),
    )


def _refusals(room: Room, canceled: bool) -> list[Refusal]:
    money = room.money
    if room.captured == 0:
        return [codes.nothing_captured(canceled)]
    if room.max_refundable > 0:
        return []
    if room.pending == 0:
        return [Refusal(code=codes.FULLY_REFUNDED, message="Everything captured has been refunded.")]
    return [
        Refusal(
            code=codes.PENDING_REFUNDS_HOLD_REMAINDER,
            message=f"Pending refunds of {money(room.pending)} hold everything not yet refunded.",
        )
    ]

