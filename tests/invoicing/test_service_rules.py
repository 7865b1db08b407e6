"""The service's own rules that need no server: a payment attempt's id, what an order may still
be invoiced for while a payment travels, and the pay form's CSRF token."""

from __future__ import annotations

from datetime import timedelta

from flint_chassis.service_secret import ServiceSecret
from flint_contracts.ids import is_id, new_id
from flint_invoicing.domain import payment_id_for
from flint_invoicing.pay_forms import PayForms
from flint_invoicing.repository import ProjectedOrder
from tests.invoicing.support import clock_at, eur, invoice_for, order

SECRET = ServiceSecret("s" * 40, service="invoicing")


def test_an_attempts_payment_id_is_the_same_every_time_and_differs_between_attempts_and_invoices():
    invoice, other = invoice_for(), invoice_for()
    first = payment_id_for(invoice, 1)
    assert is_id(first, "pay") and first == payment_id_for(invoice, 1)
    assert len({first, payment_id_for(invoice, 2), payment_id_for(other, 1)}) == 3


def test_a_payment_orders_has_not_shown_yet_already_counts_as_paid():
    # given an order owing 48.80 whose invoice of 20.00 was just paid, before orders applied it
    billable = order()
    paid = invoice_for(billable, amount=eur(2000))
    paid.record_payment(new_id("pay"), eur(2000), clock=clock_at())
    projected = ProjectedOrder(id=billable.order_id, merchant_id=billable.merchant_id, version=1, status="open",
                               billable=billable, captured_payments=frozenset())
    # then a new invoice may bill only the 28.80 left
    assert projected.billable_now([paid]).balance_due == eur(2880)
    assert projected.billable_now([paid]).paid == eur(2000)
    # and once the order shows that payment, nothing is counted twice
    seen = ProjectedOrder(**{**projected.__dict__, "captured_payments": frozenset({paid.payment_id}),
                             "billable": billable.model_copy(update={"balance_due": eur(2880), "paid": eur(2000)})})
    assert seen.billable_now([paid]).balance_due == eur(2880)


def test_a_pay_form_token_is_for_one_browser_one_invoice_and_a_while():
    clock = clock_at()
    forms = PayForms(SECRET, clock=clock, max_age=3600, cookie_path="/pay/", secure=False)
    nonce = forms.nonce(None)
    token = forms.token(nonce, "inv_1")
    assert forms.nonce(nonce) == nonce  # a second tab keeps the browser's nonce
    assert forms.valid(nonce, "inv_1", token)
    assert not forms.valid(forms.nonce(None), "inv_1", token)  # another browser
    assert not forms.valid(nonce, "inv_2", token)  # another invoice
    assert not forms.valid(None, "inv_1", token) and not forms.valid(nonce, "inv_1", None)
    assert not forms.valid(nonce, "inv_1", token[:-1] + ("A" if token[-1] != "A" else "B"))
    clock.advance(timedelta(seconds=3601))
    assert not forms.valid(nonce, "inv_1", token)  # left open too long
