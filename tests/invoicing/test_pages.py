"""The hosted pages rendered from their view models: what a buyer reads, and what they never see."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from flint_invoicing.card_form import read_card_form
from flint_invoicing.document import invoice_document
from flint_invoicing.domain import Customer, FixedClock
from flint_invoicing.pages import (
    PAY_ERRORS,
    PayError,
    PayPage,
    not_found_page,
    pay_error,
    render_already_paid_page,
    render_pay_page,
    render_receipt_page,
)
from flint_payments.errors import CardDeclined, InsufficientFunds, ProcessingError, ProcessorUnavailable
from tests.invoicing.pages import ACME, CSRF, already_paid_page, camping_invoice, pay_page, receipt_page
from tests.invoicing.support import invoice_for, order


class Form(HTMLParser):
    """The form fields of a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
            self.method = attrs.get("method")
        if tag == "input":
            self.inputs[attrs["name"]] = attrs
        if tag == "script":
            self.scripts += 1


def form_of(html: str) -> Form:
    parser = Form()
    parser.feed(html)
    return parser


def visible_text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_pay_page_shows_what_is_owed_and_a_card_form_without_javascript():
    page = pay_page()
    html = render_pay_page(page)
    text = visible_text(html)
    for expected in ("Acme Outdoor", "Invoice INV-0042", "€323.68", "Due 11 December 2026", "Zofia Łukasiewicz",
                     "Trail tent, two person", "Qty 2 × €34.50", "Subtotal", "€267.00", "Shipping", "€5.95",
                     "Amount due", "Pay €323.68", "Download invoice (PDF)", "Thank you for shopping"):  # fmt: skip
        assert expected in text, expected
    form = form_of(html)
    assert form.scripts == 0 and form.method == "post" and form.action == page.pay_action
    assert set(form.inputs) == {"csrf_token", "card_number", "card_expiry", "card_cvc", "cardholder_name"}
    assert form.inputs["csrf_token"] == {"type": "hidden", "name": "csrf_token", "value": CSRF}
    assert form.inputs["card_number"]["autocomplete"] == "cc-number"
    assert f'href="{page.pdf_url}"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_text_from_the_order_is_escaped():
    invoice = invoice_for(order(customer=Customer(email="x@example.com", name="<script>alert(1)</script>")),
                          memo='"><img src=x onerror=alert(1)>')  # fmt: skip
    html = render_pay_page(pay_page(invoice))
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_overdue_invoice_is_marked_overdue():
    invoice = camping_invoice()
    invoice.send(clock=_at(2026, 11, 27), public_url="https://pay.flint.test")
    invoice.mark_overdue(clock=_at(2026, 12, 12))
    assert "Overdue" in visible_text(render_pay_page(pay_page(invoice)))


@pytest.mark.parametrize(
    "code, words, field",
    [
        (CardDeclined.code, "Your card was declined.", "card_number"),
        (InsufficientFunds.code, "Your card has insufficient funds.", "card_number"),
        ("expired_card", "Your card has expired.", "card_expiry"),
        ("invalid_cvc", "The security code is invalid.", "card_cvc"),
        (ProcessingError.code, "We could not complete the payment.", None),
    ],
)
def test_a_declined_card_says_why_and_marks_the_field(code, words, field):
    html = render_pay_page(pay_page(error=pay_error(code), cardholder_name="Zofia"))
    text = visible_text(html)
    assert words in text and 'role="alert"' in html
    inputs = form_of(html).inputs
    assert inputs["cardholder_name"]["value"] == "Zofia"  # the name is kept; the card number never is
    assert "value" not in inputs["card_number"]
    marked = [name for name, attrs in inputs.items() if attrs.get("aria-invalid") == "true"]
    assert marked == ([field] if field else [])


def test_every_decline_says_whether_money_moved():
    for error in PAY_ERRORS.values():
        assert "Nothing was charged" in error.message or error.field in ("number", "expiry", "cvc", "name") \
            or error.code == ProcessorUnavailable.code or "This payment was not taken" in error.message
    assert pay_error("something_new").title == "The payment did not go through."


def test_the_receipt_shows_the_payment():
    text = visible_text(render_receipt_page(receipt_page()))
    for expected in ("Payment received", "€323.68", "Visa •••• 4242", "INV-0042", "#1001", "zofia@example.pl",
                     "27 November 2026, 10:00 UTC", "Download invoice (PDF)"):  # fmt: skip
        assert expected in text, expected


def test_the_already_paid_page_has_no_form():
    html = render_already_paid_page(already_paid_page())
    assert "This invoice is paid" in visible_text(html) and "<form" not in html and "€0.00" in visible_text(html)


def test_the_not_found_page_leaks_nothing():
    html = not_found_page()
    assert "This link does not work" in visible_text(html)
    assert "Acme" not in html and "INV-" not in html and "€" not in html and "<form" not in html


def test_the_card_form_reads_into_card_details():
    form = read_card_form({"card_number": " 4242 4242 4242 4242 ", "card_expiry": "12 / 30", "card_cvc": "123",
                           "cardholder_name": "  Zofia   Łukasiewicz "})  # fmt: skip
    assert form.card.exp_month == 12 and form.card.exp_year == 30 and form.cardholder_name == "Zofia Łukasiewicz"
    assert form.card.number.get_secret_value() == "4242 4242 4242 4242" and "4242" not in repr(form.card)
    assert read_card_form({"card_number": "4242", "card_expiry": "1230", "card_cvc": "1", "cardholder_name": "Z"}) \
        .card.exp_month == 12


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"card_number": "", "card_expiry": "12/30", "cardholder_name": "Z"}, "incorrect_number"),
        ({"card_number": "4242", "card_expiry": "December", "cardholder_name": "Z"}, "invalid_expiry_month"),
        ({"card_number": "4242", "card_expiry": "12/30", "cardholder_name": "  "}, "missing_name"),
        ({"card_number": "4242", "card_expiry": "12/30", "cardholder_name": "Z\x00"}, "missing_name"),
        ({}, "incorrect_number"),
    ],
)
def test_a_form_that_cannot_be_read_gives_the_page_error(fields, code):
    error = read_card_form(fields)
    assert isinstance(error, PayError) and error.code == code


def test_a_page_built_for_a_paid_invoice_offers_no_pay_link():
    invoice = camping_invoice()
    doc = invoice_document(invoice, ACME, pay_url="https://pay.flint.test/pay/x")
    assert doc.pay_url == "https://pay.flint.test/pay/x"
    invoice.void(clock=_at(2026, 11, 28), actor=invoice.pending_events[0].data.actor)
    assert invoice_document(invoice, ACME, pay_url="https://pay.flint.test/pay/x").pay_url is None
    assert isinstance(pay_page(), PayPage)


def _at(year: int, month: int, day: int) -> FixedClock:
    return FixedClock(datetime(year, month, day, 12, tzinfo=UTC))
