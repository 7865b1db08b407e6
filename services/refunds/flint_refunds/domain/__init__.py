"""The refunds domain: pure and synchronous, one idea per module.

``refund`` (the aggregate: a refund opened from an accepted quote, settled by the
processor's answers), ``parts`` (one part per payment, and what their outcomes mean),
``order_money`` (the projection of an order's money, handed to the contracts' refund
rules), ``errors``. The rules themselves are ``flint_contracts.refund_rules``.
"""

from flint_refunds.domain.errors import ConflictingPayment, OrderNotFound, RefundRefused
from flint_refunds.domain.order_money import KnownCapture, OrderProjection, OrderState
from flint_refunds.domain.parts import NOT_ATTEMPTED, Outcome, Part, part_key, settle_parts
from flint_refunds.domain.refund import Refund

__all__ = [
    "NOT_ATTEMPTED", "ConflictingPayment", "KnownCapture", "OrderNotFound", "OrderProjection", "OrderState",
    "Outcome", "Part", "Refund", "RefundRefused", "part_key", "settle_parts",
]
