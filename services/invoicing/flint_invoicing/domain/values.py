"""What an invoice is made from: the order it bills, as the invoicing service's projection
of order events holds it. An invoice keeps a copy (a snapshot) of the customer, lines and
totals, so its PDF and pay page show what was billed even when the order changes later."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flint_contracts.money import Money


class ValueObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(ValueObject):
    """Who the invoice is for."""

    email: str
    name: str | None = None


class InvoiceLine(ValueObject):
    """One line item of the order, as billed."""

    title: str
    sku: str | None = None
    quantity: int = Field(ge=1)
    unit_price: Money
    tax: Money

    @property
    def total(self) -> Money:
        """Price times quantity, plus the line's tax."""
        return self.unit_price * self.quantity + self.tax


class OrderTotals(ValueObject):
    """The order's totals, as the invoice prints them."""

    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money


class BillableOrder(ValueObject):
    """An order as the invoicing service knows it from order events: what an invoice needs."""

    order_id: str
    merchant_id: str
    order_number: int
    currency: str
    customer: Customer
    lines: tuple[InvoiceLine, ...]
    totals: OrderTotals
    paid: Money = Field(description="What the buyer has paid, net of refunds.")
    balance_due: Money = Field(description="What the order still owes.")

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        amounts = [self.paid, self.balance_due, *self.totals.__dict__.values()]
        amounts += [m for line in self.lines for m in (line.unit_price, line.tax)]
        if any(amount.currency != self.currency for amount in amounts):
            raise ValueError(f"every amount of the order must be in {self.currency}")
        if self.balance_due.amount < 0:
            raise ValueError("an order's balance due is never negative")
        return self
