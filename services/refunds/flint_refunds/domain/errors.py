"""What the refunds domain refuses, each with what a caller needs to act on it."""

from __future__ import annotations

from flint_contracts.refund_rules import Refusal


class OrderNotFound(LookupError):
    """No order of this merchant is known to the refunds service (none exists, it is another
    merchant's, or its first event has not arrived yet)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id}")
        self.order_id = order_id


class RefundRefused(Exception):
    """The refund rules refused the request; ``refusals`` lists every reason, each with its
    stable code (``flint_contracts.refund_rules.refusals``)."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("; ".join(f"{r.code}: {r.message}" for r in refusals))
        self.refusals = refusals


class ConflictingPayment(Exception):
    """A payment id seen before with another order, merchant, amount or currency."""

    code = "conflicting_event"
