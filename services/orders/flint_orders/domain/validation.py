"""Checks of what callers hand the order: ids, emails, money in the order's currency,
texts, metadata and times. Each raises InvalidInput (or CurrencyMismatch) naming the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flint_contracts.ids import PREFIXES, is_id, new_id
from flint_contracts.money import Money, currency_exponent
from flint_orders.domain.errors import CurrencyMismatch, InvalidInput, TotalsMismatch
from flint_orders.domain.values import (
    MAX_METADATA_BYTES,
    MAX_TAG_LENGTH,
    Customer,
    Discount,
    LineItem,
    NewLine,
    Totals,
)

def check_new_order(merchant_id: str, number: int, customer: Customer, currency: str, lines: Sequence) -> None:
    check_id("merchant_id", merchant_id, "mer")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput("must be a whole number of at least 1", field="number")
    check_email(customer.email)
    try:
        currency_exponent(currency)
    except (ValueError, TypeError):
        raise InvalidInput("is not an ISO-4217 currency code", field="currency") from None
    if not lines:
        raise InvalidInput("an order needs at least one line item", field="lines")


def check_email(email: str) -> None:
    local, at, domain = (email or "").strip().partition("@")
    if not (local and at and "." in domain and "@" not in domain and len(email) <= 254):
        raise InvalidInput("is not an email address", field="customer.email")


def new_line_item(field: str, line: NewLine, currency: str) -> LineItem:
    title = clean_text(f"{field}.title", line.title, 500)
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput("must be a whole number of at least 1", field=f"{field}.quantity")
    tax = Money.zero(currency) if line.tax is None else line.tax
    check_money(f"{field}.unit_price", line.unit_price, currency)
    check_money(f"{field}.tax", tax, currency)
    return LineItem(id=new_id("lin"), sku=line.sku, title=title, quantity=quantity, unit_price=line.unit_price, tax=tax)


def check_discount(field: str, discount: Discount, currency: str) -> None:
    clean_text(f"{field}.code", discount.code, 100)
    same_currency(f"{field}.amount", discount.amount, currency)
    require_positive(f"{field}.amount", discount.amount)


def check_totals(totals: Totals, expected_total: Money | None, currency: str) -> None:
    if totals.discount > totals.subtotal:
        raise InvalidInput(
            f"discounts of {totals.discount} are more than the subtotal of {totals.subtotal}", field="discounts"
        )
    if expected_total is None:
        return
    same_currency("expected_total", expected_total, currency)
    if expected_total != totals.total:
        raise TotalsMismatch(
            f"is {expected_total}, but lines, tax and shipping less discounts add up to {totals.total}",
            field="expected_total",
        )


def check_money(field: str, money: Money, currency: str) -> None:
    same_currency(field, money, currency)
    if money.amount < 0:
        raise InvalidInput("must not be negative", field=field)


def require_positive(field: str, money: Money) -> None:
    if money.amount <= 0:
        raise InvalidInput("must be more than zero", field=field)


def same_currency(field: str, money: Money, currency: str) -> None:
    if not isinstance(money, Money):
        raise InvalidInput("must be money: {amount, currency}", field=field)
    if money.currency != currency:
        raise CurrencyMismatch(f"is in {money.currency}, the order is in {currency}", field=field)


def check_id(field: str, value: str, prefix: str) -> None:
    if not isinstance(value, str) or not is_id(value, prefix):
        raise InvalidInput(f"must be a {PREFIXES[prefix]} id ({prefix}_...)", field=field)


def clean_text(field: str, value: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= max_length:
        raise InvalidInput(f"must be 1 to {max_length} characters", field=field)
    return text


def metadata_values(values: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise InvalidInput("must be an object with string keys", field="metadata")
    try:
        encoded = json.dumps(values)
    except (TypeError, ValueError):
        raise InvalidInput("must be plain JSON", field="metadata") from None
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise InvalidInput(f"must be at most {MAX_METADATA_BYTES} bytes as JSON", field="metadata")
    return copy.deepcopy(values)  # the caller may go on mutating its dict


def aware_time(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise InvalidInput("must carry a time zone", field="at")
    return at


def normalize_tag(tag: str) -> str:
    """Tags compare case- and whitespace-insensitively: " VIP  Customer " -> "vip customer"."""
    if not isinstance(tag, str):
        raise InvalidInput("must be a string", field="tag")
    normalized = " ".join(tag.split()).lower()
    if not 1 <= len(normalized) <= MAX_TAG_LENGTH:
        raise InvalidInput(f"must be 1 to {MAX_TAG_LENGTH} characters", field="tag")
    return normalized

