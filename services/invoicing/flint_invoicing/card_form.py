"""The pay page's card form, read into what the payment processor takes.

Only the shape is checked here: an expiry that reads as a month and a year, a name. Whether
the number, expiry and code make a usable card is the processor's call (``InvalidCard``),
so the rules live in one place. Problems come back as the page's ``PayError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flint_contracts.limits import MAX_NAME_LENGTH
from flint_contracts.text import text_problem
from flint_invoicing.pages import PayError, pay_error
from flint_payments import CardDetails

_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*[/ -]?\s*(\d{2}|\d{4})\s*$")
FIELDS = ("card_number", "card_expiry", "card_cvc", "cardholder_name")


@dataclass(frozen=True)
class CardForm:
    """A filled-in form: the card for the processor and the name the buyer typed."""

    card: CardDetails
    cardholder_name: str


def read_card_form(form: Mapping[str, str]) -> CardForm | PayError:
    """The card from the posted fields, or the error to show on the page."""
    number = _field(form, "card_number")
    if not number:
        return pay_error("incorrect_number")
    expiry = _EXPIRY.match(_field(form, "card_expiry"))
    if expiry is None:
        return pay_error("invalid_expiry_month")
    name = " ".join(_field(form, "cardholder_name").split())
    if not name or len(name) > MAX_NAME_LENGTH or text_problem(name):
        return pay_error("missing_name")
    month, year = int(expiry.group(1)), int(expiry.group(2))
    return CardForm(card=CardDetails.of(number, month, year, _field(form, "card_cvc")), cardholder_name=name)


def _field(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""
