"""What an order has left to refund: per line, on shipping, per payment and in total.

Pending and succeeded refunds both take room; failed refunds give it back (they are
ignored). Amounts here are plain integers of minor units in the order's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint_contracts.money import Money
from flint_contracts.refund_rules.allocation import oldest_first, split_oldest_first
from flint_contracts.refund_rules.order_money import OrderLine, OrderMoney
from flint_contracts.refund_rules.shares import largest_remainder


@dataclass(frozen=True)
class LineRoom:
    """One line: what it is worth after its discount share, and what refunds took from it."""

    line: OrderLine
    discount: int
    taken_quantity: int
    taken_amount: int

    @property
    def net(self) -> int:
        """``unit_price * quantity + tax - discount share``: all a refund of the line can return."""
        return self.line.subtotal() + self.line.tax.amount - self.discount

    @property
    def remaining_quantity(self) -> int:
        return max(self.line.quantity - self.taken_quantity, 0)

    @property
    def remaining_amount(self) -> int:
        return max(self.net - self.taken_amount, 0)


@dataclass(frozen=True)
class PaymentRoom:
    payment_id: str
    captured: int
    taken: int

    @property
    def remaining(self) -> int:
        return max(self.captured - self.taken, 0)


@dataclass(frozen=True)
class Room:
    currency: str
    captured: int
    refunded: int
    pending: int
    lines: dict[str, LineRoom]
    shipping: int
    shipping_taken: int
    payments: list[PaymentRoom]  # oldest capture first

    def money(self, amount: int) -> Money:
        """``amount`` minor units in the order's currency."""
        return Money(amount=amount, currency=self.currency)

    @property
    def max_refundable(self) -> int:
        """``captured - refunded - pending``, never below zero."""
        return max(self.captured - self.refunded - self.pending, 0)

    @property
    def shipping_remaining(self) -> int:
        return max(self.shipping - self.shipping_taken, 0)


def room_of(order: OrderMoney) -> Room:
    """What ``order`` can still refund, from its lines, captures and refunds."""
    holding = [refund for refund in order.refunds if refund.holds_room]
    return Room(
        currency=order.currency,
        captured=sum(capture.amount.amount for capture in order.captures),
        refunded=sum(r.amount.amount for r in holding if r.status == "succeeded"),
        pending=sum(r.amount.amount for r in holding if r.status == "pending"),
        lines=_line_rooms(order),
        shipping=order.shipping.amount,
        shipping_taken=sum(refund.shipping_amount for refund in holding),
        payments=_payment_rooms(order),
    )


def discount_shares(order: OrderMoney) -> list[int]:
    """The order's discount shared over its lines in proportion to ``unit_price * quantity``
    (largest remainder), so the shares add up to the discount and none exceeds its line."""
    return largest_remainder(order.discount_total(), [line.subtotal() for line in order.lines])


def _line_rooms(order: OrderMoney) -> dict[str, LineRoom]:
    taken_quantity: dict[str, int] = {}
    taken_amount: dict[str, int] = {}
    for refund in order.refunds:
        if refund.holds_room:
            for part in refund.lines:
                taken_quantity[part.line_item_id] = taken_quantity.get(part.line_item_id, 0) + part.quantity
                taken_amount[part.line_item_id] = taken_amount.get(part.line_item_id, 0) + part.amount.amount
    return {
        line.line_item_id: LineRoom(
            line=line,
            discount=discount,
            taken_quantity=taken_quantity.get(line.line_item_id, 0),
            taken_amount=taken_amount.get(line.line_item_id, 0),
        )
        for line, discount in zip(order.lines, discount_shares(order), strict=True)
    }


def _payment_rooms(order: OrderMoney) -> list[PaymentRoom]:
    captures = oldest_first(order.captures)
    taken = {capture.payment_id: 0 for capture in captures}
    for refund in order.refunds:
        if not refund.holds_room:
            continue
        if refund.payments:
            shares = [(share.payment_id, share.amount.amount) for share in refund.payments]
        else:  # a refund recorded without its split takes room by the allocation rule
            rooms = [(c.payment_id, c.amount.amount - taken[c.payment_id]) for c in captures]
            shares = split_oldest_first(refund.amount.amount, rooms)
        for payment_id, amount in shares:
            taken[payment_id] += amount
    return [PaymentRoom(c.payment_id, c.amount.amount, taken[c.payment_id]) for c in captures]
