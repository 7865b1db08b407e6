"""A refund quote: what a request would refund, line by line, and why it would be refused.

docs/payments.md, "Refund rules", states the rules; this module is them, with no I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flint_contracts.events.base import ContractModel
from flint_contracts.events.refunds import RefundLine, RefundStatus
from flint_contracts.fields import LineItemId
from flint_contracts.money import MAX_AMOUNT, Money
from flint_contracts.refund_rules import refusals as codes
from flint_contracts.refund_rules.allocation import split_oldest_first
from flint_contracts.refund_rules.order_money import OrderMoney, PastRefund, PaymentShare
from flint_contracts.refund_rules.refusals import Refusal
from flint_contracts.refund_rules.request import RefundRequest, RequestedLine
from flint_contracts.refund_rules.room import LineRoom, Room, room_of
from flint_contracts.refund_rules.shares import share_of_units


class LineQuote(ContractModel):
    """What refunding some items of one line returns."""

    line_item_id: LineItemId = Field(description="The order's line item.")
    quantity: int = Field(description="Items refunded.")
    subtotal: Money = Field(description="`unit_price * quantity`.")
    tax: Money = Field(description="The items' share of the line's tax.")
    discount: Money = Field(description="The items' share of the line's discount, taken off.")
    amount: Money = Field(
        description="What the items return: `subtotal + tax - discount`, except that the last "
        "items of a line return exactly what the line has left."
    )


class RefundQuote(ContractModel):
    """What a refund request would do. ``refusals`` is empty when it can go ahead."""

    currency: str = Field(description="The order's currency.")
    lines: list[LineQuote] = Field(description="Per requested line (refused lines are left out).")
    shipping: Money = Field(description="Shipping refunded.")
    amount: Money = Field(description="The plain amount refunded on top of lines and shipping.")
    total: Money = Field(description="Lines plus shipping plus the plain amount.")
    payments: list[PaymentShare] = Field(
        description="How the total goes back to payments (oldest capture first, or the named "
        "payment). When refused for lack of room, it covers only what there is room for."
    )
    max_refundable: Money = Field(description="Captured minus refunded minus pending refunds.")
    refusals: list[Refusal] = Field(description="Every reason the refund would be refused.")

    @property
    def accepted(self) -> bool:
        return not self.refusals

    def as_refund(self, refund_id: str, status: RefundStatus = "pending") -> PastRefund:
        """The refund this quote describes, as the rules read it back among an order's refunds."""
        if not self.accepted:
            raise ValueError(f"a refused quote is no refund: {[r.code for r in self.refusals]}")
        return PastRefund(
            refund_id=refund_id,
            status=status,
            amount=self.total,
            lines=[RefundLine(line_item_id=q.line_item_id, quantity=q.quantity, amount=q.amount) for q in self.lines],
            shipping=self.shipping,
            payments=self.payments,
        )


def quote_refund(order: OrderMoney, request: RefundRequest) -> RefundQuote:
    """What ``request`` would refund on ``order``, and every reason it would be refused."""
    room = room_of(order)
    refusals: list[Refusal] = []
    lines = _quote_lines(room, request.lines, refusals)
    shipping = _quote_shipping(room, request.shipping, refusals)
    plain = _plain_amount(room, request.amount, refusals)
    total = sum(line.amount.amount for line in lines) + shipping + plain
    if total > MAX_AMOUNT:
        # Only a plain amount near the bound gets here, and it is refused (no order holds that
        # much): the quote shows it cut to what fits, since no amount can hold more.
        plain, total = plain - (total - MAX_AMOUNT), MAX_AMOUNT
    refusals += _whole_refund_refusals(room, order.canceled, total, bool(refusals))
    shares = _split(room, request.payment_id, total, refusals)
    money = room.money
    return RefundQuote(
        currency=room.currency,
        lines=lines,
        shipping=money(shipping),
        amount=money(plain),
        total=money(total),
        payments=[PaymentShare(payment_id=pid, amount=money(amount)) for pid, amount in shares],
        max_refundable=money(room.max_refundable),
        refusals=refusals,
    )


def quote_line(line_room: LineRoom, quantity: int) -> LineQuote:
    """``quantity`` more items of a line, after the items earlier refunds took.

    Price is exact (``unit_price * quantity``); tax and discount shares are cumulative (see
    :mod:`~flint_contracts.refund_rules.shares`), so items refunded one at a time or all at
    once carry the same tax and discount in total.
    """
    line = line_room.line
    before = min(line_room.taken_quantity, line.quantity)
    subtotal = line.unit_price.amount * quantity
    tax = share_of_units(line.tax.amount, before, quantity, line.quantity)
    discount = share_of_units(line_room.discount, before, quantity, line.quantity)
    if before + quantity == line.quantity:
        # The last items take what is left, so a line never returns a cent more or less than
        # it is worth, however its items were split across refunds (failed ones included).
        amount = line_room.remaining_amount
    else:
        amount = min(subtotal + tax - discount, line_room.remaining_amount)
    currency = line.unit_price.currency

    def money(value: int) -> Money:
        return Money(amount=value, currency=currency)

    return LineQuote(
        line_item_id=line.line_item_id,
        quantity=quantity,
        subtotal=money(subtotal),
        tax=money(tax),
        discount=money(discount),
        amount=money(amount),
    )


def _quote_lines(room: Room, requested: list[RequestedLine], refusals: list[Refusal]) -> list[LineQuote]:
    quotes: list[LineQuote] = []
    seen: set[str] = set()
    for index, wanted in enumerate(requested):
        refusal = _line_refusal(room, wanted, index, seen)
        seen.add(wanted.line_item_id)
        if refusal is not None:
            refusals.append(refusal)
        else:
            quotes.append(quote_line(room.lines[wanted.line_item_id], wanted.quantity))
    return quotes


def _line_refusal(room: Room, wanted: RequestedLine, index: int, seen: set[str]) -> Refusal | None:
    line = room.lines.get(wanted.line_item_id)
    if line is None:
        return Refusal(
            code=codes.UNKNOWN_LINE,
            message=f"{wanted.line_item_id} is not a line of this order.",
            field=f"lines[{index}].line_item_id",
        )
    if wanted.line_item_id in seen:
        return Refusal(
            code=codes.DUPLICATE_LINE,
            message=f"{wanted.line_item_id} is asked for more than once; ask once with the total quantity.",
            field=f"lines[{index}].line_item_id",
        )
    if wanted.quantity > line.remaining_quantity:
        return Refusal(
            code=codes.LINE_QUANTITY_EXCEEDED,
            message=f"{wanted.quantity} items asked, {line.remaining_quantity} of {line.line.quantity} "
            "on this line are not refunded or being refunded.",
            field=f"lines[{index}].quantity",
        )
    return None


def _quote_shipping(room: Room, asked: Literal["remaining"] | Money | None, refusals: list[Refusal]) -> int:
    if asked is None:
        return 0
    if isinstance(asked, str):  # "remaining"
        return room.shipping_remaining
    if asked.currency != room.currency:
        refusals.append(_currency_refusal("shipping", asked, room.currency))
        return 0
    if asked.amount > room.shipping_remaining:
        refusals.append(
            Refusal(
                code=codes.SHIPPING_EXCEEDED,
                message=f"{asked} of shipping asked, {room.money(room.shipping_remaining)} "
                "is not refunded or being refunded.",
                field="shipping",
            )
        )
        return 0
    return asked.amount


def _plain_amount(room: Room, asked: Money | None, refusals: list[Refusal]) -> int:
    if asked is None:
        return 0
    if asked.currency != room.currency:
        refusals.append(_currency_refusal("amount", asked, room.currency))
        return 0
    return asked.amount


def _whole_refund_refusals(room: Room, canceled: bool, total: int, refused_parts: bool) -> list[Refusal]:
    money = room.money
    if room.captured == 0:
        return [codes.nothing_captured(canceled)]
    if total == 0:
        if refused_parts:
            return []  # the parts' own refusals already say why nothing is left
        return [
            Refusal(code=codes.NOTHING_TO_REFUND, message="The refund comes to zero: ask for lines, shipping or an amount.")
        ]
    if total > room.max_refundable:
        return [
            Refusal(
                code=codes.EXCEEDS_REFUNDABLE,
                message=f"{money(total)} is more than the {money(room.max_refundable)} still refundable "
                f"({money(room.captured)} captured, {money(room.refunded)} refunded, "
                f"{money(room.pending)} held by pending refunds).",
            )
        ]
    return []


def _split(room: Room, payment_id: str | None, total: int, refusals: list[Refusal]) -> list[tuple[str, int]]:
    payable = min(total, room.max_refundable)
    if payment_id is None:
        return split_oldest_first(payable, [(p.payment_id, p.remaining) for p in room.payments])
    payment = next((p for p in room.payments if p.payment_id == payment_id), None)
    if payment is None:
        refusals.append(
            Refusal(
                code=codes.UNKNOWN_PAYMENT,
                message=f"{payment_id} is not a captured payment of this order.",
                field="payment_id",
            )
        )
        return []
    if total > payment.remaining:
        refusals.append(
            Refusal(
                code=codes.PAYMENT_EXCEEDED,
                message=f"{room.money(total)} is more than the {room.money(payment.remaining)} "
                f"payment {payment_id} has left to refund.",
                field="payment_id",
            )
        )
    part = min(payable, payment.remaining)
    return [(payment_id, part)] if part else []


def _currency_refusal(field: str, asked: Money, currency: str) -> Refusal:
    return Refusal(
        code=codes.CURRENCY_MISMATCH,
        message=f"{field} is in {asked.currency}; this order is in {currency}.",
        field=field,
    )
