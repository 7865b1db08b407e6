"""Money: integer minor units in one ISO-4217 currency; never floats, never mixed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from flint_contracts.money import MAX_AMOUNT, MixedCurrencyError, Money, currency_exponent, total

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "CLF"]
# Bounded so that sums of three stay representable (the cap is 2**53 - 1).
amounts = st.integers(min_value=-(2**50), max_value=2**50)


def money_in(currency: str) -> st.SearchStrategy[Money]:
    return amounts.map(lambda amount: Money(amount=amount, currency=currency))


same_currency_pairs = st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(money_in(c), money_in(c)))
same_currency_triples = st.sampled_from(CURRENCIES).flatmap(
    lambda c: st.tuples(money_in(c), money_in(c), money_in(c))
)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


# --- what Money refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a >= b,
        lambda a, b: total([a, b], "EUR"),
    ],
    ids=["add", "subtract", "less-than", "greater-or-equal", "total"],
)
def test_amounts_in_two_currencies_are_never_combined(combine) -> None:
    with pytest.raises(MixedCurrencyError, match="EUR.*USD"):
        combine(eur(100), Money(amount=100, currency="USD"))


@pytest.mark.parametrize("amount", [12.5, 12.0, True, "1250", None])
def test_amount_must_be_an_integer_not_a_float_bool_or_string(amount: object) -> None:
    with pytest.raises(ValidationError):
        Money(amount=amount, currency="EUR")


def test_float_amount_in_json_is_refused() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate_json('{"amount": 12.0, "currency": "EUR"}')


@pytest.mark.parametrize("currency", ["ABC", "eur", "EURO", "", "XXX"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=100, currency=currency)
    with pytest.raises(ValueError):
        currency_exponent(currency)


def test_amounts_beyond_what_json_clients_read_exactly_are_refused() -> None:
    assert Money(amount=MAX_AMOUNT, currency="EUR").amount == 2**53 - 1
    with pytest.raises(ValidationError):
        Money(amount=MAX_AMOUNT + 1, currency="EUR")
    with pytest.raises(ValidationError):
        Money(amount=MAX_AMOUNT, currency="EUR") + eur(1)


@pytest.mark.parametrize("factor", [1.5, True, "2"])
def test_money_is_multiplied_only_by_integers(factor: object) -> None:
    with pytest.raises(TypeError):
        eur(100) * factor


def test_multiplying_by_an_integer_scales_the_amount() -> None:
    assert eur(1250) * 3 == eur(3750)
    assert 3 * eur(1250) == eur(3750)


# --- currencies and decimals ----------------------------------------------------------------


def test_yen_has_no_minor_unit() -> None:
    assert currency_exponent("JPY") == 0
    assert Money.from_decimal("1200", "JPY") == Money(amount=1200, currency="JPY")
    assert str(Money(amount=1200, currency="JPY")) == "1200 JPY"
    with pytest.raises(ValueError, match="more decimals"):
        Money.from_decimal("1200.5", "JPY")


def test_kuwaiti_dinar_has_three_decimals() -> None:
    assert currency_exponent("KWD") == 3
    assert Money.from_decimal("1.234", "KWD").amount == 1234
    assert str(Money(amount=1234, currency="KWD")) == "1.234 KWD"


def test_euro_has_two_decimals() -> None:
    assert Money.from_decimal("12.50", "EUR") == eur(1250)
    assert Money.from_decimal(Decimal("-0.01"), "EUR") == eur(-1)
    assert str(eur(1250)) == "12.50 EUR"


@pytest.mark.parametrize(
    ("value", "currency"),
    [("12.345", "EUR"), ("0.001", "USD"), ("1.2345", "KWD"), ("1.00000000000000000000000000001", "EUR")],
)
def test_from_decimal_refuses_more_decimals_than_the_currency_has(value: str, currency: str) -> None:
    with pytest.raises(ValueError, match="more decimals"):
        Money.from_decimal(value, currency)


def test_from_decimal_accepts_trailing_zeros() -> None:
    assert Money.from_decimal("12.5000", "EUR") == eur(1250)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "1e30"])
def test_from_decimal_refuses_what_is_not_an_amount(value: str) -> None:
    with pytest.raises(ValueError):
        Money.from_decimal(value, "EUR")


def test_from_decimal_refuses_floats() -> None:
    # 12.5 happens to be exact in binary, but 0.1 is not: no float gets in, either way.
    with pytest.raises(TypeError):
        Money.from_decimal(12.5, "EUR")  # type: ignore[arg-type]


def test_total_of_nothing_is_zero_in_the_currency() -> None:
    assert total([], "JPY") == Money(amount=0, currency="JPY")


# --- arithmetic properties ------------------------------------------------------------------


@given(same_currency_pairs)
def test_subtracting_what_was_added_gives_back_the_amount(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a + b) - b == a
    assert a - a == Money.zero(a.currency)
    assert a + (-b) == a - b


@given(same_currency_triples)
def test_addition_is_associative_and_commutative(triple: tuple[Money, Money, Money]) -> None:
    a, b, c = triple
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert total([a, b, c], a.currency) == a + b + c


@given(same_currency_pairs)
def test_ordering_follows_the_amount(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a < b) == (a.amount < b.amount)
    assert (a <= b) == (a.amount <= b.amount)
    assert (a > b) == (b < a)
    assert [a < b, a == b, a > b].count(True) == 1


@given(same_currency_triples)
def test_adding_the_same_amount_keeps_the_order(triple: tuple[Money, Money, Money]) -> None:
    a, b, c = triple
    if a <= b:
        assert a + c <= b + c


@given(st.sampled_from(CURRENCIES).flatmap(money_in))
def test_decimal_and_json_forms_give_back_the_same_money(money: Money) -> None:
    assert Money.from_decimal(money.to_decimal(), money.currency) == money
    assert Money.from_decimal(str(money).split()[0], money.currency) == money
    assert Money.model_validate_json(money.model_dump_json()) == money


def test_a_result_of_arithmetic_is_money_like_any_other() -> None:
    # given a sum, a difference and a product (built without re-validating)
    results = [eur(700) + eur(550), eur(1500) - eur(250), eur(625) * 2, -eur(-1250)]
    # then each equals, hashes, prints and serializes as the same amount made directly
    for result in results:
        assert result == eur(1250) and hash(result) == hash(eur(1250))
        assert (str(result), result.model_dump_json()) == (str(eur(1250)), eur(1250).model_dump_json())
        assert result.model_copy(update={"amount": 1}) == eur(1)
