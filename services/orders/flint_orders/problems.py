"""The problem types the orders API adds to the chassis' (docs/problems.md), and how a
refusal of the order domain becomes one."""

from __future__ import annotations

from flint_chassis.problems import CONFLICT, CURRENCY_MISMATCH, VALIDATION_FAILED, Problem, ProblemType, problem_type
from flint_orders.domain import CurrencyMismatch, DomainError, InvalidInput

MERCHANT_ONLY = problem_type(
    "merchant_only", 403, "Merchant only",
    "Orders are created by the merchant (its own backend token) or internal producers, never by apps.")
APP_ONLY = problem_type(
    "app_only", 403, "App only", "Only an app token writes metadata, and only its own namespace.")
TOTALS_MISMATCH = problem_type(
    "totals_mismatch", 422, "Totals mismatch", "`total` differs from what the lines, tax and shipping less discounts add up to.")
TOO_MANY_NOTES = problem_type(
    "too_many_notes", 422, "Too many notes", "An order holds at most 50 notes (every order event carries them all).")
INVALID_TRANSITION = problem_type(
    "invalid_transition", 409, "Invalid transition", "The order's status does not allow this (cancel a canceled order).")

_BY_CODE: dict[str, ProblemType] = {
    kind.code: kind for kind in (TOTALS_MISMATCH, CURRENCY_MISMATCH, TOO_MANY_NOTES, INVALID_TRANSITION)
}


def api_field(field: str | None) -> str:
    """``lines[0].unit_price`` (domain) -> ``line_items.0.unit_price`` (request body)."""
    if not field:
        return "body"
    dotted = field.replace("[", ".").replace("]", "")
    head, _, rest = dotted.partition(".")
    head = _FIELD_NAMES.get(head, head)
    return f"{head}.{rest}" if rest else head


# The API names fields as its request bodies do; the domain names them as its arguments.
_FIELD_NAMES = {"lines": "line_items", "expected_total": "total"}


def domain_problem(error: DomainError) -> Problem:
    """Bad input is a 422 naming the field (``validation_failed``, like the request's own
    validation: one problem type for one kind of error, the field's ``code`` says which rule);
    a change the order's state refuses is a 409."""
    bad_input = isinstance(error, (InvalidInput, CurrencyMismatch))
    kind = _BY_CODE.get(error.code, VALIDATION_FAILED if bad_input else CONFLICT)
    field = api_field(error.field)
    return Problem(kind, f"{field}: {error.reason}",
                   errors=[{"field": field, "code": error.code, "message": error.reason}])
