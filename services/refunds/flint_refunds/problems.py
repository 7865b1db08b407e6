"""The problem types the refunds API adds to the chassis' (docs/problems.md): one per reason
the refund rules refuse a refund, under the rules' own code, and how a refusal becomes one.

What the order's state refuses right now (nothing captured, not that much left) is a 409:
the same request may succeed later, or for less. What no state of this order could accept
(a line it does not have, another currency) is a 422.
"""

from __future__ import annotations

from flint_chassis.problems import CURRENCY_MISMATCH, Problem, ProblemType, problem_type
from flint_contracts.refund_rules import Refusal
from flint_contracts.refund_rules import refusals as codes

REFUSALS: dict[str, ProblemType] = {kind.code: kind for kind in (
    problem_type(codes.NOT_PAID, 409, "Not paid", "Nothing has been captured on the order: there is nothing to refund."),
    problem_type(codes.ORDER_VOIDED, 409, "Order voided", "The order was canceled before anything was captured."),
    problem_type(codes.EXCEEDS_REFUNDABLE, 409, "Exceeds refundable",
                 "The refund comes to more than captured minus refunded minus pending refunds (the detail names each)."),
    problem_type(codes.LINE_QUANTITY_EXCEEDED, 409, "Line quantity exceeded",
                 "More items of a line than are neither refunded nor being refunded."),
    problem_type(codes.SHIPPING_EXCEEDED, 409, "Shipping exceeded",
                 "More shipping than is neither refunded nor being refunded."),
    problem_type(codes.PAYMENT_EXCEEDED, 409, "Payment exceeded", "More than the named payment has left to refund."),
    problem_type(codes.NOTHING_TO_REFUND, 422, "Nothing to refund",
                 "The refund comes to zero: ask for lines, shipping or an amount."),
    problem_type(codes.UNKNOWN_LINE, 422, "Unknown line", "A line item that is not on the order."),
    problem_type(codes.DUPLICATE_LINE, 422, "Duplicate line",
                 "A line item asked for twice in one refund; ask once with the total quantity."),
    problem_type(codes.UNKNOWN_PAYMENT, 422, "Unknown payment", "`payment_id` is not a captured payment of the order."),
    CURRENCY_MISMATCH,
)}


def api_field(field: str | None) -> str:
    """``lines[1].quantity`` (the rules) -> ``lines.1.quantity`` (request bodies, as every
    Flint error names fields); a refusal of the whole refund names the body."""
    if not field:
        return "body"
    return field.replace("[", ".").replace("]", "")


def refusal_problem(refusals: list[Refusal]) -> Problem:
    """Every reason in ``errors``; ``code`` is the first reason no state of the order could
    accept, else the first reason at all (so a client fixing its request sees that first)."""
    bad_request = [r for r in refusals if REFUSALS[r.code].status == 422]
    lead = (bad_request or refusals)[0]
    return Problem(REFUSALS[lead.code], lead.message, errors=[
        {"field": api_field(r.field), "code": r.code, "message": r.message} for r in refusals])
