"""Why a refund would be refused: one stable code per reason, and a message a person can act on.

The codes are part of Flint's interface (the refunds API answers with them, the orders
service's refund context shows them); they never change meaning.
"""

from __future__ import annotations

from typing import Final

from flint_contracts.events.refund_context import Refusal  # the model, beside the events that carry it

# The order as a whole
NOT_PAID: Final = "not_paid"
"""Nothing has been captured on the order."""
ORDER_VOIDED: Final = "order_voided"
"""The order was canceled before anything was captured."""
FULLY_REFUNDED: Final = "fully_refunded"
"""Everything captured has been refunded."""
PENDING_REFUNDS_HOLD_REMAINDER: Final = "pending_refunds_hold_remainder"
"""Pending refunds hold everything not yet refunded."""

# One request
EXCEEDS_REFUNDABLE: Final = "exceeds_refundable"
"""The refund comes to more than captured minus refunded minus pending."""
NOTHING_TO_REFUND: Final = "nothing_to_refund"
"""The request comes to zero."""
CURRENCY_MISMATCH: Final = "currency_mismatch"
"""An amount is not in the order's currency."""
UNKNOWN_LINE: Final = "unknown_line"
"""A line item that is not on the order."""
DUPLICATE_LINE: Final = "duplicate_line"
"""The same line item asked for twice in one request."""
LINE_QUANTITY_EXCEEDED: Final = "line_quantity_exceeded"
"""More items of a line than remain unrefunded."""
SHIPPING_EXCEEDED: Final = "shipping_exceeded"
"""More shipping than remains unrefunded."""
UNKNOWN_PAYMENT: Final = "unknown_payment"
"""A payment that is not a capture of the order."""
PAYMENT_EXCEEDED: Final = "payment_exceeded"
"""More than the named payment has left."""

CODES: Final = frozenset(
    {
        NOT_PAID, ORDER_VOIDED, FULLY_REFUNDED, PENDING_REFUNDS_HOLD_REMAINDER, EXCEEDS_REFUNDABLE,
        NOTHING_TO_REFUND, CURRENCY_MISMATCH, UNKNOWN_LINE, DUPLICATE_LINE, LINE_QUANTITY_EXCEEDED,
        SHIPPING_EXCEEDED, UNKNOWN_PAYMENT, PAYMENT_EXCEEDED,
    }
)


def nothing_captured(canceled: bool) -> Refusal:
    """The refusal of every refund on an order that captured nothing."""
    if canceled:
        return Refusal(code=ORDER_VOIDED, message="The order was canceled before any payment was captured.")
    return Refusal(code=NOT_PAID, message="No payment has been captured on this order.")
