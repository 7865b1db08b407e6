"""The problem types the invoicing API adds to the chassis' (docs/problems.md), and how a
refusal of the invoice domain becomes one."""

from __future__ import annotations

from flint_chassis.problems import CONFLICT, VALIDATION_FAILED, Problem, ProblemType, problem_type
from flint_invoicing.domain import DomainError, InvalidInput
from flint_invoicing.handlers import UnknownOrder

NOTHING_DUE = problem_type(
    "nothing_due", 409, "Nothing due",
    "The order owes nothing that its other open (or uncollectible) invoices do not ask for already.")
AMOUNT_EXCEEDS_BALANCE = problem_type(
    "amount_exceeds_balance", 422, "Amount exceeds balance",
    "An invoice may ask for at most what the order owes less what its other open invoices ask for.")
INVOICE_PAID = problem_type(
    "invoice_paid", 409, "Invoice paid", "The invoice is paid: it cannot be voided, written off, sent or reminded about.")
INVOICE_VOID = problem_type(
    "invoice_void", 409, "Invoice void", "The invoice was voided: nothing can happen to it any more.")
INVOICE_UNCOLLECTIBLE = problem_type(
    "invoice_uncollectible", 409, "Invoice uncollectible",
    "The invoice was written off: it can still be paid or voided, not sent or reminded about.")
INVOICE_NOT_SENT = problem_type(
    "invoice_not_sent", 409, "Invoice not sent", "A reminder about an invoice that was never sent: send it first.")

_BY_CODE: dict[str, ProblemType] = {
    kind.code: kind for kind in (NOTHING_DUE, AMOUNT_EXCEEDS_BALANCE, INVOICE_PAID, INVOICE_VOID, INVOICE_UNCOLLECTIBLE,
                                 INVOICE_NOT_SENT)
}



def api_field(field: str | None) -> str:
    """``reminder_policy[0]`` (domain) -> ``reminder_policy.0`` (request body)."""
    if not field:
        return "body"
    return field.replace("[", ".").replace("]", "")


def domain_problem(error: DomainError) -> Problem:
    """Bad input (an unknown order, a due date in the past, another currency) is a 422
    ``validation_failed`` naming the field with the rule's code; an amount above the balance
    and nothing due have their own codes; a change the invoice's status refuses is a 409 with
    the status' code."""
    bad_input = isinstance(error, (InvalidInput, UnknownOrder))
    kind = _BY_CODE.get(error.code, VALIDATION_FAILED if bad_input else CONFLICT)
    field = api_field(error.field)
    return Problem(kind, f"{field}: {error.reason}", errors=[{"field": field, "code": error.code, "message": error.reason}])
