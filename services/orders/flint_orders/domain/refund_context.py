"""Refund context: what an order can still refund, and why a refund would be refused now.

docs/orders.md, "Refund context". The figures are the contracts' refund rules
(``flint_contracts.refund_rules``), computed on the order's money exactly as the refunds
service computes them on its projection of the order, so the two services never disagree.
This module hands the order to the rules (``order_money_of``), adds what only the order
knows to their answer (titles, SKUs, payment methods), and checks a consumed refund against
it (``check_refundable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flint_contracts.events import RefundLine as ContractRefundLine
from flint_contracts.events.refund_context import RefundContext as RulesContext
from flint_contracts.money import Money
from flint_contracts.refund_rules import Capture, OrderLine, OrderMoney, PastRefund, PaymentShare, refund_context
from flint_contracts.refund_rules import refusals as codes
from flint_orders.domain.errors import RefundRefused
from flint_orders.domain.values import Refund, RefundPart, money_json

if TYPE_CHECKING:
    from flint_orders.domain.order import Order

LINE_AMOUNT_EXCEEDED = "line_amount_exceeded"
"""A refund event that takes more money from a line than it has left (the rules' quotes never
do; a refund decided elsewhere might)."""


@dataclass(frozen=True, slots=True)
class LineRefundable:
    line_item_id: str
    sku: str | None
    title: str
    quantity: int
    refundable_quantity: int
    total: Money
    discount: Money
    refundable_amount: Money

    def to_dict(self) -> dict[str, Any]:
        return {"line_item_id": self.line_item_id, "sku": self.sku, "title": self.title, "quantity": self.quantity,
                "refundable_quantity": self.refundable_quantity, "total": money_json(self.total),
                "discount": money_json(self.discount), "refundable_amount": money_json(self.refundable_amount)}


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
    shipping: Money
    shipping_refundable: Money
    lines: list[LineRefundable]
    payments: list[PaymentRefundable]
    refusal_reasons: list[Refusal]

    def to_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "currency": self.currency, "captured": money_json(self.captured),
                "refunded": money_json(self.refunded), "pending": money_json(self.pending),
                "max_refundable": money_json(self.max_refundable), "shipping": money_json(self.shipping),
                "shipping_refundable": money_json(self.shipping_refundable),
                "lines": [line.to_dict() for line in self.lines],
                "payments": [payment.to_dict() for payment in self.payments],
                "refusal_reasons": [refusal.to_dict() for refusal in self.refusal_reasons]}


# --- the order as the rules read it --------------------------------------------------------------


def order_money_of(order: Order) -> OrderMoney:
    """The order's money as ``flint_contracts.refund_rules`` reads it: lines, shipping,
    discounts, captured payments (failed ones took nothing) and every refund with its split."""
    captured = {p.id for p in order.payments if p.status == "captured"}
    return OrderMoney(
        currency=order.currency,
        lines=[OrderLine(line_item_id=line.id, quantity=line.quantity, unit_price=line.unit_price, tax=line.tax)
               for line in order.line_items],
        shipping=order.shipping,
        discounts=[discount.amount for discount in order.discounts],
        captures=[Capture(payment_id=p.id, amount=p.amount, captured_at=p.at)
                  for p in order.payments if p.status == "captured"],
        # A failed refund holds nothing, and the order keeps one it never checked (it took no room).
        refunds=[_past_refund(refund, captured) for refund in order.refunds if refund.status != "failed"],
        canceled=order.status == "canceled",
    )


def _past_refund(refund: Refund, captured: set[str]) -> PastRefund:
    return PastRefund(
        refund_id=refund.id,
        status=refund.status,
        amount=refund.amount,
        lines=[ContractRefundLine(line_item_id=line.line_item_id, quantity=line.quantity, amount=line.amount)
               for line in refund.lines if line.quantity or line.amount.amount],
        shipping=refund.shipping,
        payments=[PaymentShare(payment_id=payment_id, amount=amount) for payment_id, amount in _shares(refund, captured)],
    )


def _shares(refund: Refund, captured: set[str]) -> list[tuple[str, Money]]:
    """What the refund takes from each payment: its parts that hold money; a refund naming one
    payment and no parts, all from it; otherwise nothing here, and the rules split it."""
    if refund.payments:
        return [(part.payment_id, part.amount) for part in _holding_parts(refund)]
    if refund.payment_id in captured:
        return [(refund.payment_id, refund.amount)]
    return []


def _holding_parts(refund: Refund) -> list[RefundPart]:
    """Parts that take money: all of a pending refund's, the succeeded ones of a settled one."""
    return [part for part in refund.payments if refund.status == "pending" or part.status == "succeeded"]


# --- the context the API shows ----------------------------------------------------------------------


def refund_context_of(order: Order) -> RefundContext:
    """What can still be refunded on ``order``: overall, per line, on shipping, per payment."""
    rules = refund_context(order_money_of(order))
    items = {line.id: line for line in order.line_items}
    methods = {payment.id: payment.method for payment in order.payments}
    return RefundContext(
        order_id=order.id,
        currency=order.currency,
        captured=rules.captured,
        refunded=rules.refunded,
        pending=rules.pending,
        max_refundable=rules.max_refundable,
        shipping=rules.shipping,
        shipping_refundable=rules.shipping_refundable,
        lines=[LineRefundable(line_item_id=line.line_item_id, sku=items[line.line_item_id].sku,
                              title=items[line.line_item_id].title, quantity=line.quantity,
                              refundable_quantity=line.refundable_quantity, total=line.total, discount=line.discount,
                              refundable_amount=line.refundable_amount) for line in rules.lines],
        payments=[PaymentRefundable(payment_id=p.payment_id, method=methods[p.payment_id], captured=p.captured,
                                    refunded_or_pending=p.refunded_or_pending, refundable=p.refundable)
                  for p in rules.payments],
        refusal_reasons=[Refusal(code=r.code, message=r.message) for r in rules.refusals],
    )


# --- checking a refund decided by the refunds service ----------------------------------------------


def check_refundable(refund: Refund, order: Order) -> None:
    """Raises RefundRefused when ``refund`` would take more than ``order`` has left: in total,
    on a line, on shipping or from a payment (codes of ``flint_contracts.refund_rules.refusals``)."""
    captured = {p.id for p in order.payments if p.status == "captured"}
    _check_names_captures(refund, captured)
    context = refund_context(order_money_of(order))
    if refund.amount > context.max_refundable:
        raise RefundRefused(
            f"{refund.amount} is more than the {context.max_refundable} still refundable "
            "(captured minus refunded minus pending)", field="amount", code=codes.EXCEEDS_REFUNDABLE)
    check_refund_lines(refund, context)
    if refund.shipping > context.shipping_refundable:
        raise RefundRefused(f"{refund.shipping} is more than the {context.shipping_refundable} shipping still "
                            "refundable", field="shipping", code=codes.SHIPPING_EXCEEDED)
    _check_payment_room(refund, context, captured)


def _check_names_captures(refund: Refund, captured: set[str]) -> None:
    named = [part.payment_id for part in refund.payments]
    if refund.payment_id is not None:
        named.append(refund.payment_id)
    unknown = next((payment_id for payment_id in named if payment_id not in captured), None)
    if unknown is not None:
        raise RefundRefused(f"{unknown} is not a captured payment of this order", field="payment_id",
                            code=codes.UNKNOWN_PAYMENT)


def check_refund_lines(refund: Refund, context: RulesContext) -> None:
    lines = {line.line_item_id: line for line in context.lines}
    asked: dict[str, tuple[int, int]] = {}  # the same line may appear twice in one refund
    for index, wanted in enumerate(refund.lines):
        line = lines.get(wanted.line_item_id)
        if line is None:
            raise RefundRefused("is not a line of this order", field=f"lines[{index}].line_item_id",
                                code=codes.UNKNOWN_LINE)
        quantity, amount = asked.get(wanted.line_item_id, (0, 0))
        asked[wanted.line_item_id] = quantity, amount = quantity + wanted.quantity, amount + wanted.amount.amount
        if quantity > line.refundable_quantity:
            raise RefundRefused(f"{quantity} is more than the {line.refundable_quantity} still refundable",
                                field=f"lines[{index}].quantity", code=codes.LINE_QUANTITY_EXCEEDED)
        if amount > line.refundable_amount.amount:
            raise RefundRefused(f"{wanted.amount} is more than the {line.refundable_amount} still refundable on "
                                "this line", field=f"lines[{index}].amount", code=LINE_AMOUNT_EXCEEDED)


def _check_payment_room(refund: Refund, context: RulesContext, captured: set[str]) -> None:
    room = {payment.payment_id: payment.refundable for payment in context.payments}
    for payment_id, amount in _shares(refund, captured):
        if amount > room[payment_id]:
            raise RefundRefused(f"{amount} is more than the {room[payment_id]} still refundable on payment "
                                f"{payment_id}", field="payment_id", code=codes.PAYMENT_EXCEEDED)
