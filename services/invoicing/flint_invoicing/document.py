"""An invoice as the buyer reads it: every figure and date already formatted.

The PDF, the hosted page and the emails all render an ``InvoiceDocument``, so an amount is
formatted in one place and reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint_contracts.money import Money
from flint_invoicing.domain import Invoice
from flint_invoicing.formatting import format_day, format_moment, format_money


@dataclass(frozen=True)
class Merchant:
    """Who sends the invoice: the name printed on it, and where the buyer can write."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class DocumentLine:
    title: str
    sku: str | None
    quantity: int
    unit_price: str
    tax: str
    amount: str


@dataclass(frozen=True)
class InvoiceDocument:
    """What the PDF, the page and the emails show of one invoice."""

    merchant: Merchant
    number: str
    order_number: str
    status: str
    overdue: bool
    issued: str
    due: str
    bill_to_name: str | None
    bill_to_email: str
    lines: tuple[DocumentLine, ...]
    subtotal: str
    discount: str | None
    shipping: str | None
    tax: str
    total: str
    amount_paid: str
    amount_due: str
    invoice_amount: str
    partial_note: str | None
    memo: str | None
    paid_on: str | None
    pay_url: str | None

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"


def invoice_document(invoice: Invoice, merchant: Merchant, *, pay_url: str | None = None) -> InvoiceDocument:
    """``invoice`` formatted for reading. ``pay_url`` is the hosted link this copy carries."""
    totals = invoice.order_totals
    return InvoiceDocument(
        merchant=merchant,
        number=invoice.display_number,
        order_number=f"#{invoice.order_number}",
        status=invoice.status,
        overdue=invoice.overdue,
        issued=format_day(invoice.created_at.date()),
        due=format_day(invoice.due_date),
        bill_to_name=invoice.customer.name,
        bill_to_email=invoice.customer.email,
        lines=tuple(
            DocumentLine(
                title=line.title, sku=line.sku, quantity=line.quantity, unit_price=format_money(line.unit_price),
                tax=format_money(line.tax), amount=format_money(line.total),
            )  # fmt: skip
            for line in invoice.lines
        ),
        subtotal=format_money(totals.subtotal),
        discount=_unless_zero(-totals.discount),
        shipping=_unless_zero(totals.shipping),
        tax=format_money(totals.tax),
        total=format_money(totals.total),
        amount_paid=format_money(invoice.order_paid + invoice.amount_paid),
        amount_due=format_money(invoice.amount_remaining),
        invoice_amount=format_money(invoice.amount_due),
        partial_note=_partial_note(invoice),
        memo=invoice.memo,
        paid_on=format_moment(invoice.paid_at) if invoice.paid_at else None,
        pay_url=pay_url if invoice.status in ("open", "uncollectible") else None,
    )


def _unless_zero(money: Money) -> str | None:
    return None if money.amount == 0 else format_money(money)


def _partial_note(invoice: Invoice) -> str | None:
    if not invoice.covers_part_of_balance:
        return None
    return (
        f"This invoice is for {format_money(invoice.amount_due)} of the {format_money(invoice.order_balance_due)} "
        f"owed on order #{invoice.order_number}."
    )
