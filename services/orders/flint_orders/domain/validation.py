"""Checks of what callers hand the order: ids, emails, money in the order's currency,
texts, metadata and times. Each raises InvalidInput (or CurrencyMismatch) naming the field.

The limits and text rules are the contracts' (``flint_contracts.limits``, ``.text``,
``.fields``), so what the domain accepts is exactly what the order record contract allows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flint_contracts.fields import EMAIL, TAG
from flint_contracts.ids import PREFIXES, is_id, new_id
from flint_contracts.limits import (
    MAX_DISCOUNT_CODE_LENGTH,
    MAX_DISCOUNTS,
    MAX_EMAIL_LENGTH,
    MAX_LINE_ITEMS,
    MAX_METADATA_BYTES,
    MAX_NAME_LENGTH,
    MAX_SKU_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TITLE_LENGTH,
)
from flint_contracts.money import Money, currency_exponent
from flint_contracts.text import json_problem, text_problem
from flint_orders.domain.errors import CurrencyMismatch, InvalidInput, TotalsMismatch
from flint_orders.domain.values import Customer, Discount, LineItem, NewLine, Totals


def check_new_order(merchant_id: str, number: int, currency: str, lines: Sequence, discounts: Sequence) -> None:
    check_id("merchant_id", merchant_id, "mer")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput("must be a whole number of at least 1", field="number")
    try:
        currency_exponent(currency)
    except (ValueError, TypeError):
        raise InvalidInput("is not an ISO-4217 currency code", field="currency") from None
    if not lines:
        raise InvalidInput("an order needs at least one line item", field="lines")
    if len(lines) > MAX_LINE_ITEMS:
        raise InvalidInput(f"an order holds at most {MAX_LINE_ITEMS} line items", field="lines")
    if len(discounts) > MAX_DISCOUNTS:
        raise InvalidInput(f"an order holds at most {MAX_DISCOUNTS} discounts", field="discounts")


def clean_customer(customer: Customer) -> Customer:
    """The customer as the order keeps it: email trimmed, a blank name as no name."""
    email = (customer.email or "").strip() if isinstance(customer.email, str) else ""
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL.match(email) or text_problem(email):
        raise InvalidInput("is not an email address", field="customer.email")
    name = customer.name.strip() if isinstance(customer.name, str) else None
    if name:
        name = clean_text("customer.name", name, MAX_NAME_LENGTH)
    return Customer(email=email, name=name or None)


def new_line_item(field: str, line: NewLine, currency: str) -> LineItem:
    title = clean_text(f"{field}.title", line.title, MAX_TITLE_LENGTH)
    sku = None if line.sku is None else clean_text(f"{field}.sku", line.sku, MAX_SKU_LENGTH)
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput("must be a whole number of at least 1", field=f"{field}.quantity")
    tax = Money.zero(currency) if line.tax is None else line.tax
    check_money(f"{field}.unit_price", line.unit_price, currency)
    check_money(f"{field}.tax", tax, currency)
    return LineItem(id=new_id("lin"), sku=sku, title=title, quantity=quantity, unit_price=line.unit_price, tax=tax)


def clean_discount(field: str, discount: Discount, currency: str) -> Discount:
    code = clean_text(f"{field}.code", discount.code, MAX_DISCOUNT_CODE_LENGTH)
    same_currency(f"{field}.amount", discount.amount, currency)
    require_positive(f"{field}.amount", discount.amount)
    return discount if code == discount.code else Discount(code=code, amount=discount.amount)


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
    """``value`` trimmed; refused when empty, longer than ``max_length`` or not storable text."""
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= max_length:
        raise InvalidInput(f"must be 1 to {max_length} characters", field=field)
    if (problem := text_problem(text)) is not None:
        raise InvalidInput(problem, field=field)
    return text


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    return None if value is None else clean_text(field, value, max_length)


def metadata_values(values: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise InvalidInput("must be an object with string keys", field="metadata")
    if (found := json_problem(values)) is not None:
        path, reason = found
        raise InvalidInput(reason, field=f"metadata.{path}" if path else "metadata")
    try:
        encoded = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
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
    if not TAG.match(normalized):
        raise InvalidInput("must not contain a slash", field="tag")
    if (problem := text_problem(normalized)) is not None:
        raise InvalidInput(problem, field="tag")
    return normalized
