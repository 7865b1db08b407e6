"""The invoice PDF, read back with pypdf as a buyer's viewer would read it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_invoicing.document import Merchant, invoice_document
from flint_invoicing.domain import Customer, InvoiceLine
from flint_invoicing.pdf import FontsMissing, PdfFonts, render_invoice_pdf
from tests.invoicing.support import clock_at, eur, invoice_for, money, order

ACME = Merchant("Acme Outdoor GmbH", "billing@acme.example")


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def rendered(invoice, **kw) -> bytes:
    url = invoice.pending_events[0].data.hosted_url
    return render_invoice_pdf(invoice_document(invoice, ACME, pay_url=url, **kw), created_at=invoice.created_at)


def test_the_pdf_names_the_invoice_its_amounts_and_how_to_pay():
    # given an open invoice for the 48.80 an order owes
    invoice = invoice_for(memo="Thanks for camping with us!")
    # when it is printed
    pdf = rendered(invoice)
    text = text_of(pdf)
    # then a reader finds the number, the dates, the lines, every total and the pay link
    assert pdf.startswith(b"%PDF-")
    for expected in ("Acme Outdoor GmbH", "INV-0042", "#1001", "27 November 2026", "11 December 2026",
                     "Ada Lovelace", "ada@example.com", "Tent, two person", "TENT-2", "€39.00", "€3.80", "€42.80",
                     "Subtotal", "€40.00", "Shipping", "€5.00", "Total", "€48.80", "Amount paid", "€0.00",
                     "Amount due", "Thanks for camping with us!", "https://pay.flint.test/pay/"):  # fmt: skip
        assert expected in text, expected
    assert invoice.pending_events[0].data.hosted_url in text.replace("\n", "")
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Invoice INV-0042"


def test_a_buyer_name_beyond_latin_1_prints():
    name = "Łukasz Żółć Дмитрий Ελένη 山田太郎"
    invoice = invoice_for(order(customer=Customer(email="buyer@example.pl", name=name)))
    text = text_of(rendered(invoice))
    for part in name.split():
        assert part in text, part


def test_yen_has_no_decimals_and_dinar_three():
    yen = invoice_for(order(currency="JPY", lines=(InvoiceLine(title="Tea set", quantity=1, unit_price=money(12800, "JPY"),
                                                               tax=money(1280, "JPY")),), shipping=0))  # fmt: skip
    text = text_of(rendered(yen))
    assert "¥14,080" in text and "¥12,800" in text and "¥140.80" not in text
    dinar = invoice_for(order(currency="KWD", lines=(InvoiceLine(title="Lamp", quantity=1, unit_price=money(12345, "KWD"),
                                                                 tax=money(0, "KWD")),), shipping=0))  # fmt: skip
    assert "KWD 12.345" in text_of(rendered(dinar)).replace("\xa0", " ")


def test_a_partial_invoice_says_what_part_it_covers():
    invoice = invoice_for(order(balance_due=4880), amount=eur(2000))
    text = " ".join(text_of(rendered(invoice)).split())
    assert "€20.00 due 11 December 2026" in text
    assert "This invoice is for €20.00 of the €48.80 owed on order #1001." in text


def test_a_paid_invoice_says_so_and_offers_no_link():
    invoice = invoice_for(order(paid=1000, balance_due=3880))
    invoice.record_payment(new_id("pay"), eur(3880), clock=clock_at())
    text = text_of(rendered(invoice))
    assert "PAID" in text and "Paid in full on 27 November 2026" in text
    assert "Amount paid" in text and "€48.80" in text  # what came before and this invoice
    assert "pay.flint.test" not in text


def test_many_lines_flow_onto_more_pages():
    lines = tuple(InvoiceLine(title=f"Item {n}", quantity=1, unit_price=eur(100), tax=eur(0)) for n in range(60))
    invoice = invoice_for(order(lines=lines))
    reader = PdfReader(io.BytesIO(rendered(invoice)))
    assert len(reader.pages) >= 2
    assert "Item 59" in text_of(rendered(invoice)) and "page 2 of" in reader.pages[1].extract_text()


def test_discounts_print_as_a_deduction():
    invoice = invoice_for(order(discount=300))
    assert "Discount" in text_of(rendered(invoice)) and "-€3.00" in text_of(rendered(invoice))


def test_missing_fonts_are_a_clear_error(tmp_path: Path):
    with pytest.raises(FontsMissing) as missing:
        PdfFonts.installed(dirs=(tmp_path,))
    assert "fonts-dejavu-core" in str(missing.value) and "make setup" in str(missing.value)


def test_the_same_invoice_prints_the_same_document():
    invoice = invoice_for()
    assert rendered(invoice) == rendered(invoice)


def test_money_in_the_pdf_is_never_a_float():
    invoice = invoice_for(order(lines=(InvoiceLine(title="Odd", quantity=3, unit_price=eur(333), tax=eur(1)),), shipping=0))
    text = text_of(rendered(invoice))
    assert "€9.99" in text and "€10.00" in text  # 3 × 3.33 + 0.01 tax
    assert Money(amount=1000, currency="EUR").to_decimal().as_tuple().exponent == -2
