"""Test cards and money for the payments tests."""

from __future__ import annotations

from flint_contracts.money import Money
from flint_payments import CardDetails

SUCCEEDS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT_FUNDS = "4000 0000 0000 9995"
PROCESSING_ERROR = "4000 0000 0000 0119"


def card(number: str = SUCCEEDS, exp_month: int = 12, exp_year: int = 2040, cvc: str = "123") -> CardDetails:
    return CardDetails.of(number, exp_month, exp_year, cvc)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")
