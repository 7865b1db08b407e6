"""Refund context: what an order can still refund, and why a refund would be refused now.

docs/orders.md, "Refund context". Pending and succeeded refunds both take room; a failed
refund gives it back. The total cap applies on top of the line and payment figures.
(``flint_contracts.refund_rules`` holds the rules the refunds service will share; moving this
module onto them is issue 10's.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flint_contracts.money import Money
from flint_contracts.money import total as money_total
from flint_orders.domain.errors import RefundRefused
from flint_orders.domain.values import Amounts, LineItem, Payment, Refund, money_json

if TYPE_CHECKING:
    from flint_orders.domain.order import Order


@dataclass(frozen=True, slots=True)
class LineRefundable:
    line_item_id: str
    sku: str | None
    title: str
    quantity: int
    refundable_quantity: int
    total: Money
    refundable_amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"line_item_id": self.line_item_id, "sku": self.sku, "title": self.title, "quantity": self.quantity,
                "refundable_quantity": self.refundable_quantity, "total": money_json(self.total),
                "refundable_amount": money_json(self.refundable_amount)}


@dataclass(frozen=True, slots=True)
class PaymentRefundable:
    payment_id: str
    method: str
    captured: Money
    refunded_or_pending: Money
    refundable: Money

    def to_dict(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "method": self.method, "captured": money_json(self.captured),
                "refunded_or_pending": money_json(self.refunded_or_pending),
                "refundable": money_json(self.refundable)}


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class RefundContext:
    """What can still be refunded, and why a refund would be refused right now."""

    order_id: str
    currency: str
    captured: Money
    refunded: Money
    pending: Money
    max_refundable: Money
    shipping_refundable: Money
    lines: list[LineRefundable]
    payments: list[PaymentRefundable]
    refusal_reasons: list[Refusal]

    def to_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "currency": self.currency, "captured": money_json(self.captured),
                "refunded": money_json(self.refunded), "pending": money_json(self.pending),
                "max_refundable": money_json(self.max_refundable),
                "shipping_refundable": money_json(self.shipping_refundable),
                "lines": [line.to_dict() for line in self.lines],
                "payments": [payment.to_dict() for payment in self.payments],
                "refusal_reasons": [refusal.to_dict() for refusal in self.refusal_reasons]}


def refund_context_of(order: Order) -> RefundContext:
    """What can still be refunded on ``order``: overall, per line, on shipping, per payment."""
    amounts = order.amounts
    holding = [r for r in order.refunds if r.status != "failed"]  # pending and succeeded take room
    max_refundable = amounts.captured - amounts.refunded - amounts.refund_pending
    return RefundContext(
        order_id=order.id,
        currency=order.currency,
        captured=amounts.captured,
        refunded=amounts.refunded,
        pending=amounts.refund_pending,
        max_refundable=max_refundable,
        shipping_refundable=order.shipping - money_total([r.shipping for r in holding], order.currency),
        lines=[_line_refundable(line, holding, order.currency) for line in order.line_items],
        payments=[_payment_refundable(p, holding, order.currency) for p in order.payments if p.status == "captured"],
        refusal_reasons=_refusal_reasons(amounts, max_refundable, order.status == "canceled"),
    )


def check_refundable(refund: Refund, context: RefundContext) -> None:
    """Raises RefundRefused when ``refund`` would take more than ``context`` leaves."""
    if refund.amount > context.max_refundable:
        raise RefundRefused(
            f"{refund.amount} is more than the {context.max_refundable} still refundable "
            "(captured minus refunded minus pending)",
            field="amount",
            code="refund_exceeds_captured",
        )
    check_refund_lines(refund, context)
    if refund.shipping > context.shipping_refundable:
        raise RefundRefused(
            f"{refund.shipping} is more than the {context.shipping_refundable} shipping still refundable",
            field="shipping",
            code="shipping_exceeded",
        )
    if refund.payment_id is not None:
        check_refund_payment(refund, context)

def _line_refundable(line: LineItem, holding: list[Refund], currency: str) -> LineRefundable:
    taken = [rl for r in holding for rl in r.lines if rl.line_item_id == line.id]
    return LineRefundable(
        line_item_id=line.id,
        sku=line.sku,
        title=line.title,
        quantity=line.quantity,
        refundable_quantity=line.quantity - sum(rl.quantity for rl in taken),
        total=line.total,
        refundable_amount=line.total - money_total([rl.amount for rl in taken], currency),
    )

def _payment_refundable(payment: Payment, holding: list[Refund], currency: str) -> PaymentRefundable:
    taken = money_total([r.amount for r in holding if r.payment_id == payment.id], currency)
    return PaymentRefundable(
        payment_id=payment.id,
        method=payment.method,
        captured=payment.amount,
        refunded_or_pending=taken,
        refundable=payment.amount - taken,
    )

def _refusal_reasons(amounts: Amounts, max_refundable: Money, canceled: bool) -> list[Refusal]:
    if amounts.captured.amount == 0:
        if canceled:
            return [Refusal(code="order_voided", message="The order was canceled before any payment was captured.")]
        return [Refusal(code="nothing_captured", message="No payment has been captured on this order yet.")]
    if max_refundable.amount > 0:
        return []
    if amounts.refund_pending.amount == 0:
        return [Refusal(code="fully_refunded", message="Everything captured has been refunded.")]
    return [
        Refusal(
            code="pending_refunds_hold_remainder",
            message=f"Pending refunds of {amounts.refund_pending} hold everything not yet refunded.",
        )
    ]


def check_refund_lines(refund: Refund, context: RefundContext) -> None:
    lines = {line.line_item_id: line for line in context.lines}
    asked: dict[str, tuple[int, Money]] = {}  # the same line may appear twice in one refund
    for index, wanted in enumerate(refund.lines):
        line = lines.get(wanted.line_item_id)
        if line is None:
            field = f"lines[{index}].line_item_id"
            raise RefundRefused("is not a line of this order", field=field, code="unknown_line")
        quantity, amount = asked.get(line.line_item_id, (0, Money.zero(refund.amount.currency)))
        asked[line.line_item_id] = (quantity + wanted.quantity, amount + wanted.amount)
        _check_line_room(index, line, *asked[line.line_item_id])


def _check_line_room(index: int, line: LineRefundable, quantity: int, amount: Money) -> None:
    if quantity > line.refundable_quantity:
        raise RefundRefused(
            f"{quantity} is more than the {line.refundable_quantity} still refundable",
            field=f"lines[{index}].quantity",
            code="line_quantity_exceeded",
        )
    if amount > line.refundable_amount:
        raise RefundRefused(
            f"{amount} is more than the {line.refundable_amount} still refundable on this line",
            field=f"lines[{index}].amount",
            code="line_amount_exceeded",
        )


def check_refund_payment(refund: Refund, context: RefundContext) -> None:
    payment = next((p for p in context.payments if p.payment_id == refund.payment_id), None)
    if payment is None:
        raise RefundRefused("is not a captured payment of this order", field="payment_id", code="unknown_payment")
    if refund.amount > payment.refundable:
        raise RefundRefused(
            f"{refund.amount} is more than the {payment.refundable} still refundable on this payment",
            field="amount",
            code="payment_exceeded",
        )
