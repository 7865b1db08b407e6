"""One order's money as the refunds service knows it, handed to the refund rules.

The projection holds what the order events say was sold (lines, shipping, discounts,
cancel), the captured payments (from ``payment.captured`` and the order events), and this
service's own refunds, which are the authority on what was refunded. ``OrderState.money()``
is the rules' ``OrderMoney``, the same figures the orders service computes from its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts.money import MAX_AMOUNT, Money
from flint_contracts.order import OrderRecord
from flint_contracts.refund_rules import Capture, OrderLine, OrderMoney
from flint_refunds.domain.refund import Refund


@dataclass(frozen=True, slots=True)
class OrderProjection:
    """What was sold, from the latest order event applied (``version``)."""

    order_id: str
    merchant_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    shipping: int
    discounts: tuple[int, ...]
    canceled: bool
    version: int

    @classmethod
    def of(cls, order: OrderRecord) -> OrderProjection:
        return cls(
            order_id=order.id, merchant_id=order.merchant_id, currency=order.currency,
            lines=tuple(OrderLine(line_item_id=line.id, quantity=line.quantity, unit_price=line.unit_price,
                                  tax=line.tax) for line in order.line_items),
            shipping=order.shipping.amount, discounts=tuple(d.amount.amount for d in order.discounts),
            canceled=order.status == "canceled", version=order.version,
        )  # fmt: skip

    def lines_json(self) -> list[dict[str, Any]]:
        return [line.model_dump(mode="json") for line in self.lines]


@dataclass(frozen=True, slots=True)
class KnownCapture:
    """A captured payment; ``processor_reference`` is known once ``payment.captured`` arrived."""

    payment_id: str
    order_id: str
    merchant_id: str
    amount: int
    currency: str
    captured_at: datetime
    processor: str | None = None
    processor_reference: str | None = None

    @classmethod
    def of_order(cls, order: OrderRecord) -> list[KnownCapture]:
        """The captured payments an order event carries (without processor references)."""
        return [cls(payment_id=p.id, order_id=order.id, merchant_id=order.merchant_id, amount=p.amount.amount,
                    currency=p.amount.currency, captured_at=p.at)
                for p in order.payments if p.status == "captured"]


@dataclass(frozen=True, slots=True)
class OrderState:
    """Everything the refund rules need about one order, and its refunds so far (oldest first)."""

    order: OrderProjection
    captures: tuple[KnownCapture, ...]
    refunds: tuple[Refund, ...]

    def money(self) -> OrderMoney:
        order = self.order
        return OrderMoney(
            currency=order.currency,
            lines=list(order.lines),
            shipping=self._money(order.shipping),
            discounts=[self._money(amount) for amount in order.discounts],
            captures=[Capture(payment_id=c.payment_id, amount=self._money(c.amount), captured_at=c.captured_at)
                      for c in self.counted_captures()],
            refunds=[refund.as_past_refund() for refund in self.refunds if refund.holds_room],
            canceled=order.canceled,
        )

    def counted_captures(self) -> list[KnownCapture]:
        """Captures that count: of this merchant, in the order's currency, and while their sum
        stays within what an amount can hold (the orders service refuses any other, so
        counting it here would let the two disagree)."""
        counted, total = [], 0
        for capture in self.captures:
            if capture.merchant_id != self.order.merchant_id or capture.currency != self.order.currency:
                continue
            if total + capture.amount > MAX_AMOUNT:
                continue
            counted.append(capture)
            total += capture.amount
        return counted

    def with_refund(self, refund: Refund) -> OrderState:
        """The state once ``refund`` is stored (new, or replacing its earlier self)."""
        if any(r.id == refund.id for r in self.refunds):
            refunds = tuple(refund if r.id == refund.id else r for r in self.refunds)
        else:
            refunds = (*self.refunds, refund)
        return OrderState(self.order, self.captures, refunds)

    def _money(self, amount: int) -> Money:
        return Money(amount=amount, currency=self.order.currency)
