"""Money and dates as the buyer reads them, the same on the PDF, the page and in mail.

Amounts are exact: ``Money.to_decimal`` gives the major-unit value with the currency's own
number of decimals (JPY none, EUR two, KWD three), and formatting a ``Decimal`` never goes
through a float. Currency symbols come from the CLDR data that Babel ships (``€``, ``$``,
``¥``); where English has no symbol, the ISO code stands before the amount (``CHF 12.50``).
Days are written out (``11 December 2026``) so no reader mistakes 11/12 for 12/11.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache

from babel.dates import format_date as babel_format_date
from babel.numbers import get_currency_symbol

from flint_contracts.money import Money, currency_exponent

LOCALE = "en"


def format_money(money: Money) -> str:
    """``€1,234.56``, ``¥1,235``, ``CHF 12.50``, ``-€5.00``."""
    exponent = currency_exponent(money.currency)
    number = format(abs(money.to_decimal()), f",.{exponent}f")
    symbol = currency_symbol(money.currency)
    text = f"{symbol}\u00a0{number}" if symbol.isalpha() else f"{symbol}{number}"
    return f"-{text}" if money.amount < 0 else text


@cache
def currency_symbol(currency: str) -> str:
    """The symbol English readers know for ``currency``, or its ISO code."""
    return get_currency_symbol(currency, locale=LOCALE)


def format_day(day: date) -> str:
    """``11 December 2026``."""
    return babel_format_date(day, format="d MMMM y", locale=LOCALE)


def format_moment(moment: datetime) -> str:
    """``11 December 2026, 09:05 UTC``: times are shown in UTC, as due dates are."""
    moment = moment.astimezone(UTC)
    return f"{format_day(moment.date())}, {moment:%H:%M} UTC"
