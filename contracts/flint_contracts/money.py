"""Money as an integer amount of minor units plus an ISO-4217 currency.

Floats never enter: amounts are validated as strict integers, and arithmetic between two
currencies raises :class:`MixedCurrencyError` instead of guessing an exchange rate.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

# ISO-4217 minor-unit exponents of the active codes. Codes not listed under 0, 3 or 4 use 2.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR "
    "FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR "
    "KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV "
    "MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR "
    "SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH "
    "USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _EXPONENT_0.split()},
    **{code: 2 for code in _EXPONENT_2.split()},
    **{code: 3 for code in _EXPONENT_3.split()},
    **{code: 4 for code in _EXPONENT_4.split()},
}


# Amounts stay within the integers every JSON parser (JavaScript included) and Postgres
# BIGINT hold exactly; beyond this a plugin would silently read a different number.
MAX_AMOUNT = 2**53 - 1


_new_object = object.__new__
_set_attribute = object.__setattr__


class MixedCurrencyError(ValueError):
    """Two amounts in different currencies were combined."""


def currency_exponent(code: str) -> int:
    """Number of minor-unit digits of an ISO-4217 currency (JPY 0, EUR 2, KWD 3)."""
    try:
        return CURRENCY_EXPONENTS[code]
    except KeyError:
        raise ValueError(f"unknown ISO-4217 currency {code!r}") from None


def _known_currency(code: str) -> str:
    currency_exponent(code)
    return code


CurrencyCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO-4217 currency code, upper case.",
        examples=["EUR", "USD", "JPY"],
    ),
    AfterValidator(_known_currency),
]


class Money(BaseModel):
    """An amount in the currency's minor units (cents for EUR, yen for JPY)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [{"amount": 1250, "currency": "EUR"}]},
    )

    amount: StrictInt = Field(
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        description="Integer amount in minor units; never a float. At most 2**53 - 1 in size.",
        examples=[1250],
    )
    currency: CurrencyCode

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    def _result(self, amount: int) -> Money:
        """Money in this (already validated) currency: only the amount's bound is checked.

        Arithmetic results skip pydantic's validation, which cost more than the sum itself;
        this sets exactly the attributes ``model_construct`` sets, and an amount beyond the
        bound goes through the validating constructor so it fails as any other would."""
        if not -MAX_AMOUNT <= amount <= MAX_AMOUNT:
            return Money(amount=amount, currency=self.currency)
        money = _new_object(Money)
        _set_attribute(money, "__dict__", {"amount": amount, "currency": self.currency})
        _set_attribute(money, "__pydantic_fields_set__", {"amount", "currency"})
        _set_attribute(money, "__pydantic_extra__", None)
        _set_attribute(money, "__pydantic_private__", None)
        return money

    @classmethod
    def from_decimal(cls, value: str | Decimal, currency: str) -> Money:
        """Parse a major-unit decimal ("12.50") exactly; refuses more digits than the currency has."""
        if not isinstance(value, (str, Decimal)):
            # Decimal(0.1) is 0.1000000000000000055...: a float has already lost the amount.
            raise TypeError(f"give the amount as a string or Decimal, not {type(value).__name__}")
        exponent = currency_exponent(currency)
        try:
            major = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
        if not major.is_finite():
            raise ValueError(f"{value!r} is not a finite amount")
        # Integer arithmetic on the digits: Decimal operations round to 28 digits.
        sign, digits, digits_exponent = major.as_tuple()
        coefficient = int("".join(map(str, digits)))
        shift = digits_exponent + exponent
        if coefficient == 0:
            minor = 0
        elif len(digits) + shift > len(str(MAX_AMOUNT)):
            raise ValueError(f"{value} is too large an amount")
        elif shift >= 0:
            minor = coefficient * 10**shift
        elif -shift > len(digits) or coefficient % 10**-shift:
            raise ValueError(f"{value} has more decimals than {currency} allows ({exponent})")
        else:
            minor = coefficient // 10**-shift
        return cls(amount=-minor if sign else minor, currency=currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exact ("12.50" for 1250 EUR cents)."""
        return Decimal(self.amount).scaleb(-currency_exponent(self.currency))

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MixedCurrencyError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return self._result(self.amount + self._same(other).amount)

    def __sub__(self, other: Money) -> Money:
        return self._result(self.amount - self._same(other).amount)

    def __neg__(self) -> Money:
        return self._result(-self.amount)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an integer")
        return self._result(self.amount * factor)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __str__(self) -> str:
        return f"{self.to_decimal():f} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    """Sum of amounts that must all be in ``currency`` (zero for an empty list)."""
    zero = Money.zero(currency)
    return zero._result(sum(zero._same(amount).amount for amount in amounts))  # noqa: SLF001 - same class
