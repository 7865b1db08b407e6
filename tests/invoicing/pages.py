"""View models of the hosted pages for the page tests (the screenshots in docs/images/ come
from the running service: ``tests.invoicing.live_pages``)."""

from __future__ import annotations

from flint_contracts.ids import new_id
from flint_invoicing.document import Merchant, invoice_document
from flint_invoicing.domain import Customer, Invoice, InvoiceLine
from flint_invoicing.pages import (
    AlreadyPaidPage,
    PayPage,
    ReceiptPage,
    card_label,
    not_found_page,
    pay_error,
    render_already_paid_page,
    render_pay_page,
    render_receipt_page,
)
from tests.invoicing.support import clock_at, eur, invoice_for, order, token_of

ACME = Merchant("Acme Outdoor", "billing@acme.example")
CSRF = "csrf-placeholder-7f3a"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def camping_invoice() -> Invoice:
    lines = (
        InvoiceLine(title="Trail tent, two person", sku="TENT-2", quantity=1, unit_price=eur(18900), tax=eur(3591)),
        InvoiceLine(title="Sleeping mat", sku="MAT-1", quantity=2, unit_price=eur(3450), tax=eur(1311)),
        InvoiceLine(title="Tent pegs, set of 10", sku="PEG-10", quantity=1, unit_price=eur(900), tax=eur(171)),
    )
    billable = order(lines=lines, shipping=595, customer=Customer(email="zofia@example.pl", name="Zofia Łukasiewicz"))
    return invoice_for(billable, memo="Thank you for shopping with Acme Outdoor! Questions? Just reply to the email.")


def pay_page(invoice: Invoice | None = None, **kw) -> PayPage:
    invoice = invoice or camping_invoice()
    token = token_of(invoice.pending_events[0].data.hosted_url)
    doc = invoice_document(invoice, ACME, pay_url=invoice.pending_events[0].data.hosted_url)
    return PayPage(doc=doc, pay_action=f"/pay/{token}", pdf_url=f"/pay/{token}/invoice.pdf", csrf_token=CSRF,
                   test_mode=kw.pop("test_mode", True), **kw)  # fmt: skip


def paid(invoice: Invoice) -> Invoice:
    invoice.record_payment(new_id("pay"), invoice.amount_remaining, clock=clock_at())
    return invoice


def receipt_page(invoice: Invoice | None = None) -> ReceiptPage:
    invoice = paid(invoice or camping_invoice())
    token = token_of(invoice.pending_events[0].data.hosted_url)
    return ReceiptPage(doc=invoice_document(invoice, ACME), card=card_label("visa", "4242"),
                       pdf_url=f"/pay/{token}/invoice.pdf", reference="sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S")  # fmt: skip


def already_paid_page(invoice: Invoice | None = None) -> AlreadyPaidPage:
    invoice = paid(invoice or camping_invoice())
    return AlreadyPaidPage(doc=invoice_document(invoice, ACME), pdf_url="/pay/x/invoice.pdf")


SCREENS = {
    "invoice-pay-page": lambda: render_pay_page(pay_page()),
    "invoice-pay-declined": lambda: render_pay_page(pay_page(error=pay_error("card_declined"), cardholder_name="Zofia Ł.")),
    "invoice-receipt": lambda: render_receipt_page(receipt_page()),
    "invoice-already-paid": lambda: render_already_paid_page(already_paid_page()),
    "invoice-link-not-found": not_found_page,
}
