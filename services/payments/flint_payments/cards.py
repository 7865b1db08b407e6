"""Checking what a buyer typed, and what each sandbox test card does.

Checks come first and name the field: the number (digits, length, Luhn), the expiry (a real
month, not in the past: a card is valid through the last day of its expiry month) and the
security code (3 digits, 4 for American Express). Messages are written for the buyer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flint_payments.errors import CardDeclined, InsufficientFunds, InvalidCard, ProcessingError
from flint_payments.processor import CardDetails, CardSummary

MAX_YEARS_AHEAD = 20  # a card expiring further out is a typo


class Outcome(Enum):
    """What the sandbox does with a card."""

    SUCCEEDS = "succeeds"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"
    NOT_A_TEST_CARD = "not_a_test_card"


TEST_CARDS: dict[str, Outcome] = {
    "4242424242424242": Outcome.SUCCEEDS,  # Visa
    "5555555555554444": Outcome.SUCCEEDS,  # Mastercard
    "378282246310005": Outcome.SUCCEEDS,  # American Express (4-digit security code)
    "4000000000000002": Outcome.DECLINED,
    "4000000000009995": Outcome.INSUFFICIENT_FUNDS,
    "4000000000000119": Outcome.PROCESSING_ERROR,
}
"""The sandbox's deterministic cards. Any other valid number is declined: a sandbox never
pretends to charge a real card."""


@dataclass(frozen=True)
class CheckedCard:
    """A card that passed every check; only its summary is ever stored."""

    number: str
    summary: CardSummary

    @property
    def outcome(self) -> Outcome:
        return TEST_CARDS.get(self.number, Outcome.NOT_A_TEST_CARD)


def check_card(card: CardDetails, *, now: datetime) -> CheckedCard:
    """``card`` checked, or ``InvalidCard`` naming the field and saying what is wrong."""
    number = _checked_number(card.number.get_secret_value())
    brand = brand_of(number)
    year = _checked_expiry(card.exp_month, card.exp_year, now)
    _check_cvc(card.cvc.get_secret_value(), brand)
    summary = CardSummary(brand=brand, last4=number[-4:], exp_month=card.exp_month, exp_year=year)
    return CheckedCard(number=number, summary=summary)


def raise_for_outcome(card: CheckedCard) -> None:
    """Raise the error a declined or failing test card gives; return for one that succeeds."""
    outcome = card.outcome
    if outcome is Outcome.DECLINED:
        raise CardDeclined("Your card was declined.")
    if outcome is Outcome.INSUFFICIENT_FUNDS:
        raise InsufficientFunds("Your card has insufficient funds.")
    if outcome is Outcome.PROCESSING_ERROR:
        raise ProcessingError("An error occurred while processing your card. Try again in a little bit.")
    if outcome is Outcome.NOT_A_TEST_CARD:
        raise CardDeclined("Your card was declined. This is a test page: use a test card such as 4242 4242 4242 4242.")


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    return "unknown"


def luhn_valid(number: str) -> bool:
    """The Luhn checksum every card number carries in its last digit."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _checked_number(typed: str) -> str:
    number = re.sub(r"[ -]", "", typed)
    if not re.fullmatch(r"[0-9]{12,19}", number) or not luhn_valid(number):
        raise InvalidCard("incorrect_number", "Your card number is incorrect.", field="number")
    return number


def _checked_expiry(month: int, year: int, now: datetime) -> int:
    if not 1 <= month <= 12:
        raise InvalidCard("invalid_expiry_month", "Your card's expiration month is invalid.", field="exp_month")
    if 0 <= year < 100:
        year += 2000
    if not 2000 <= year <= now.year + MAX_YEARS_AHEAD:
        raise InvalidCard("invalid_expiry_year", "Your card's expiration year is invalid.", field="exp_year")
    if (year, month) < (now.year, now.month):
        raise InvalidCard("expired_card", "Your card has expired.", field="exp_year")
    return year


def _check_cvc(cvc: str, brand: str) -> None:
    digits = 4 if brand == "amex" else 3
    if not re.fullmatch(rf"[0-9]{{{digits}}}", cvc):
        raise InvalidCard("invalid_cvc", "Your card's security code is invalid.", field="cvc")
