"""The hosted pay page, as view models and the HTML they render to.

Server-rendered and without JavaScript: a plain form posts the card to the service, which
answers with the receipt or the same page with the error. The service fills in what these
models only carry: the form's target, the CSRF token, the PDF's address. Pages:

- ``PayPage``: the invoice summary and the card form, with an ``error`` after a decline;
- ``ReceiptPage``: right after paying;
- ``AlreadyPaidPage``: a link opened again after the invoice was paid (another tab, a reminder);
- ``not_found_page()``: an unknown, expired or voided link. It names nothing (not even the
  merchant), so a guessed link learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from flint_invoicing.document import InvoiceDocument
from flint_invoicing.templating import templates


@dataclass(frozen=True)
class PayError:
    """What went wrong with a payment, in the buyer's words. ``field`` marks the form field at
    fault (``number``, ``expiry``, ``cvc``, ``name``), if one is."""

    code: str
    title: str
    message: str
    field: str | None = None


_NOTHING_CHARGED = "Nothing was charged."
PAY_ERRORS: dict[str, PayError] = {
    error.code: error
    for error in (
        PayError("card_declined", "Your card was declined.",
                 f"{_NOTHING_CHARGED} Try another card, or ask your bank why it declined the payment.", "number"),
        PayError("insufficient_funds", "Your card has insufficient funds.",
                 f"{_NOTHING_CHARGED} Try another card.", "number"),
        PayError("expired_card", "Your card has expired.", f"{_NOTHING_CHARGED} Check the expiry date or use another card.",
                 "expiry"),
        PayError("incorrect_number", "Your card number is incorrect.", "Check the number on your card and try again.",
                 "number"),
        PayError("invalid_expiry_month", "The expiry date is invalid.", "Enter the month and year as on your card: MM / YY.",
                 "expiry"),
        PayError("invalid_expiry_year", "The expiry date is invalid.", "Enter the month and year as on your card: MM / YY.",
                 "expiry"),
        PayError("invalid_cvc", "The security code is invalid.",
                 "Enter the 3 digits on the back of your card (4 on the front for American Express).", "cvc"),
        PayError("missing_name", "Enter the name on your card.", "It helps your bank recognise the payment.", "name"),
        PayError("processing_error", "We could not complete the payment.",
                 f"{_NOTHING_CHARGED} Something went wrong on our side; try again in a moment."),
        PayError("processor_unavailable", "We could not reach the card network.",
                 "Try again in a moment. If money was taken, this page will show the receipt instead of charging again."),
        PayError("form_expired", "This page was open for too long.",
                 f"{_NOTHING_CHARGED} Enter your card again and pay."),
        PayError("payment_in_progress", "Another payment of this invoice is under way.",
                 f"{_NOTHING_CHARGED} Wait a moment, then open this page again: it shows the receipt if that payment "
                 "went through."),
        PayError("order_changed", "This invoice cannot be paid any more.",
                 f"{_NOTHING_CHARGED} The order it is for has changed (it was paid another way or canceled). "
                 "Contact the seller."),
        PayError("attempt_unresolved", "An earlier payment of this invoice is not settled yet.",
                 "This payment was not taken. Enter the card you used before to see how that payment ended, or "
                 "contact the seller."),
    )
}  # fmt: skip
"""Errors by the code the processor (``flint_payments.errors``) or the form check gives."""

UNKNOWN_PAY_ERROR = PayError("payment_failed", "The payment did not go through.", f"{_NOTHING_CHARGED} Try again.")


def pay_error(code: str) -> PayError:
    """The buyer's message for ``code``; a general one for a code this page does not know."""
    return PAY_ERRORS.get(code, UNKNOWN_PAY_ERROR)


@dataclass(frozen=True)
class PayPage:
    """The pay page. ``pay_action`` is where the form posts (the page's own address)."""

    doc: InvoiceDocument
    pay_action: str
    pdf_url: str
    csrf_token: str
    error: PayError | None = None
    cardholder_name: str = ""
    test_mode: bool = False


@dataclass(frozen=True)
class ReceiptPage:
    """Shown once the payment went through. ``card`` reads like ``Visa •••• 4242``."""

    doc: InvoiceDocument
    card: str
    pdf_url: str
    reference: str | None = None


@dataclass(frozen=True)
class AlreadyPaidPage:
    """Shown for a link to an invoice that is paid: no form, so nothing can be paid twice."""

    doc: InvoiceDocument
    pdf_url: str


def render_pay_page(page: PayPage) -> str:
    return _render("pay.html", page)


def render_receipt_page(page: ReceiptPage) -> str:
    return _render("receipt.html", page)


def render_already_paid_page(page: AlreadyPaidPage) -> str:
    return _render("already_paid.html", page)


def not_found_page() -> str:
    """The same page for every link that does not work: unknown, expired or voided."""
    return templates().get_template("not_found.html").render()


def card_label(brand: str, last4: str) -> str:
    """``Visa •••• 4242``: what a receipt shows of the card."""
    names = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}
    return f"{names.get(brand, 'Card')} •••• {last4}"


def _render(template: str, page: object) -> str:
    values = {field.name: getattr(page, field.name) for field in fields(page)}
    return templates().get_template(template).render(**values)
