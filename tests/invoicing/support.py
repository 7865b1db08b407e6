"""What the invoicing tests share: an order to bill, a clock, and money helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_invoicing.domain import BillableOrder, Customer, FixedClock, Invoice, InvoiceLine, OrderTotals

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://pay.flint.test"


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def money(amount: int, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def clock_at(at: datetime = T0) -> FixedClock:
    return FixedClock(at)


def order(
    *,
    balance_due: int | None = None,
    paid: int = 0,
    currency: str = "EUR",
    customer: Customer | None = None,
    lines: tuple[InvoiceLine, ...] | None = None,
    shipping: int = 500,
    discount: int = 0,
) -> BillableOrder:
    """A tent (39.00 + 3.80 tax), two pegs (0.50 each) and 5.00 shipping: 48.80 EUR, unless told
    otherwise. The balance due is the total less what was paid, unless given."""
    lines = lines or (
        InvoiceLine(title="Tent, two person", sku="TENT-2", quantity=1, unit_price=money(3900, currency),
                    tax=money(380, currency)),
        InvoiceLine(title="Tent pegs", sku="PEG-10", quantity=2, unit_price=money(50, currency), tax=money(0, currency)),
    )  # fmt: skip
    subtotal = sum(line.unit_price.amount * line.quantity for line in lines)
    tax = sum(line.tax.amount for line in lines)
    total = subtotal + tax + shipping - discount
    balance_due = total - paid if balance_due is None else balance_due
    return BillableOrder(
        order_id=new_id("ord"), merchant_id=new_id("mer"), order_number=1001, currency=currency,
        customer=customer or Customer(email="ada@example.com", name="Ada Lovelace"), lines=lines,
        totals=OrderTotals(subtotal=money(subtotal, currency), tax=money(tax, currency),
                           shipping=money(shipping, currency), discount=money(discount, currency),
                           total=money(total, currency)),
        paid=money(paid, currency), balance_due=money(balance_due, currency),
    )  # fmt: skip


def invoice_for(billable: BillableOrder | None = None, clock: FixedClock | None = None, **kw) -> Invoice:
    """An open invoice due on 2026-12-11 for all the order owes, created at T0."""
    return Invoice.create(
        billable or order(),
        number=kw.pop("number", 42),
        due_date=kw.pop("due_date", date(2026, 12, 11)),
        clock=clock or clock_at(),
        public_url=kw.pop("public_url", PUBLIC_URL),
        **kw,
    )


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]
