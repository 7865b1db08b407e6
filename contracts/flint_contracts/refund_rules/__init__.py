"""The refund rules: pure functions every service computes refunds with, so none disagrees.

- :func:`quote_refund`: what a request (items of lines, shipping, a plain amount) would
  refund per line, on shipping and per payment, the most that can be refunded, and every
  reason it would be refused.
- :func:`refund_context`: what an order can still refund, and why nothing can be now.

Both read an :class:`OrderMoney` (plain data the caller builds) and do no I/O. The rules,
rounding included, are written down in docs/payments.md, "Refund rules".
"""

from flint_contracts.refund_rules import refusals
from flint_contracts.refund_rules.context import (
    LineRefundable,
    PaymentRefundable,
    RefundContext,
    refund_context,
)
from flint_contracts.refund_rules.order_money import Capture, OrderLine, OrderMoney, PastRefund, PaymentShare
from flint_contracts.refund_rules.quote import LineQuote, RefundQuote, quote_line, quote_refund
from flint_contracts.refund_rules.refusals import Refusal
from flint_contracts.refund_rules.request import RefundRequest, RequestedLine

__all__ = [
    "Capture",
    "LineQuote",
    "LineRefundable",
    "OrderLine",
    "OrderMoney",
    "PastRefund",
    "PaymentRefundable",
    "PaymentShare",
    "RefundContext",
    "RefundQuote",
    "RefundRequest",
    "Refusal",
    "RequestedLine",
    "quote_line",
    "quote_refund",
    "refund_context",
    "refusals",
]
