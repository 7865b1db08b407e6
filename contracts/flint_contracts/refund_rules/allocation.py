"""How a refund is split across an order's payments: oldest capture first.

The refund goes back to the payment captured first until that payment has nothing left,
then to the next (by ``captured_at``, then payment id). One rule, so a refund's split is
the same wherever it is computed, and a buyer who paid twice gets the first payment back
before the second.
"""

from __future__ import annotations

from collections.abc import Iterable

from flint_contracts.refund_rules.order_money import Capture


def oldest_first(captures: Iterable[Capture]) -> list[Capture]:
    """Captures in the order refunds take from them."""
    return sorted(captures, key=lambda capture: (capture.captured_at, capture.payment_id))


def split_oldest_first(amount: int, rooms: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``amount`` taken from ``rooms`` (payment id, what it has left) in their order.

    Returns the non-zero parts. When the rooms hold less than ``amount``, the parts add up
    to what they hold; callers refuse such a refund before they take it.
    """
    parts: list[tuple[str, int]] = []
    left = amount
    for payment_id, room in rooms:
        if left <= 0:
            break
        part = min(max(room, 0), left)
        if part:
            parts.append((payment_id, part))
            left -= part
    return parts
