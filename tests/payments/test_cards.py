"""What the sandbox makes of the card a buyer typed (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flint_payments import InvalidCard
from flint_payments.cards import Outcome, check_card, luhn_valid
from tests.payments.cards import DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, SUCCEEDS, card

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        (SUCCEEDS, Outcome.SUCCEEDS),
        (DECLINED, Outcome.DECLINED),
        (INSUFFICIENT_FUNDS, Outcome.INSUFFICIENT_FUNDS),
        (PROCESSING_ERROR, Outcome.PROCESSING_ERROR),
        ("4111 1111 1111 1111", Outcome.NOT_A_TEST_CARD),  # a valid number, but no test card
    ],
)
def test_each_test_card_has_its_outcome(number, outcome):
    assert check_card(card(number), now=NOW).outcome is outcome


def test_what_is_kept_of_a_card_is_its_brand_last_digits_and_expiry():
    summary = check_card(card("4242-4242-4242-4242", exp_month=3, exp_year=31), now=NOW).summary

    assert (summary.brand, summary.last4, summary.exp_month, summary.exp_year) == ("visa", "4242", 3, 2031)
    assert "4242424242424242" not in repr(card()) and "123" not in repr(card())


@pytest.mark.parametrize(
    ("typed", "code", "field"),
    [
        ({"number": "4242 4242 4242 4241"}, "incorrect_number", "number"),  # fails the Luhn check
        ({"number": "4242"}, "incorrect_number", "number"),
        ({"number": "４２４２４２４２４２４２４２４２"}, "incorrect_number", "number"),  # full-width digits
        ({"exp_month": 13}, "invalid_expiry_month", "exp_month"),
        ({"exp_month": 0}, "invalid_expiry_month", "exp_month"),
        ({"exp_month": 10, "exp_year": 2026}, "expired_card", "exp_year"),
        ({"exp_year": 2090}, "invalid_expiry_year", "exp_year"),
        ({"cvc": "12"}, "invalid_cvc", "cvc"),
        ({"cvc": "12a"}, "invalid_cvc", "cvc"),
        ({"number": "3782 822463 10005", "cvc": "123"}, "invalid_cvc", "cvc"),  # American Express has 4
    ],
)
def test_a_card_typed_wrong_is_refused_naming_the_field(typed, code, field):
    with pytest.raises(InvalidCard) as refused:
        check_card(card(**typed), now=NOW)

    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message.startswith("Your card")


def test_a_card_is_valid_through_the_end_of_its_expiry_month():
    assert check_card(card(exp_month=11, exp_year=2026), now=NOW).summary.exp_year == 2026
    assert check_card(card("3782 822463 10005", cvc="1234"), now=NOW).summary.brand == "amex"


def test_luhn():
    assert luhn_valid("4242424242424242") and luhn_valid("378282246310005")
    assert not luhn_valid("4242424242424243")
