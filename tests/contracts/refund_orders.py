"""Building orders and refunds for the refund-rule tests, in the words of the business."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.refund_rules import (
    Capture,
    OrderLine,
    OrderMoney,
    RefundQuote,
    RefundRequest,
    RequestedLine,
    quote_refund,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def line(quantity: int, unit_price: int, tax: int = 0) -> OrderLine:
    return OrderLine(line_item_id=new_id("lin"), quantity=quantity, unit_price=eur(unit_price), tax=eur(tax))


def capture(amount: int, minutes_after: int = 0) -> Capture:
    return Capture(payment_id=new_id("pay"), amount=eur(amount), captured_at=T0 + timedelta(minutes=minutes_after))


def order_total(order: OrderMoney) -> int:
    lines = sum(item.subtotal() + item.tax.amount for item in order.lines)
    return lines + order.shipping.amount - order.discount_total()


def paid_order(*lines: OrderLine, shipping: int = 0, discount: int = 0, canceled: bool = False) -> OrderMoney:
    """An order of ``lines`` paid in full by one capture."""
    unpaid = OrderMoney(
        currency="EUR", lines=list(lines), shipping=eur(shipping), discounts=[eur(discount)] if discount else []
    )
    return unpaid.model_copy(update={"captures": [capture(order_total(unpaid))], "canceled": canceled})


def items(order_line: OrderLine, quantity: int) -> RequestedLine:
    return RequestedLine(line_item_id=order_line.line_item_id, quantity=quantity)


def refund(order: OrderMoney, **request) -> RefundQuote:
    return quote_refund(order, RefundRequest(**request))


def after(order: OrderMoney, quote: RefundQuote, status: str = "succeeded", refund_id: str | None = None) -> OrderMoney:
    """``order`` once ``quote`` was taken as a refund in ``status``; validated like real input."""
    taken = quote.as_refund(refund_id or new_id("rfd"), status)
    data = order.model_dump()
    return OrderMoney.model_validate({**data, "refunds": [*data["refunds"], taken.model_dump()]})


def settled(order: OrderMoney, refund_id: str, status: str) -> OrderMoney:
    """``order`` once its pending refund ``refund_id`` succeeded or failed."""
    data = order.model_dump()
    refunds = [{**r, "status": status} if r["refund_id"] == refund_id else r for r in data["refunds"]]
    return OrderMoney.model_validate({**data, "refunds": refunds})


def codes(quote: RefundQuote) -> list[str]:
    return [refusal.code for refusal in quote.refusals]
