"""Field types shared by contract models and service APIs: prefixed ids and signed money.

``order_id: OrderId`` refuses ``"pay_..."`` and ``"42"`` with a message naming the kind of
id expected, and documents the id's pattern in the JSON schema. ``PositiveMoney`` and
``NonNegativeMoney`` are :class:`~flint_contracts.money.Money` with a sign rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from flint_contracts.ids import PREFIXES, id_pattern, is_id
from flint_contracts.limits import MAX_EMAIL_LENGTH, MAX_TAG_LENGTH
from flint_contracts.money import Money
from flint_contracts.text import check_text

# A fixed, well-formed ULID for examples in schemas and docs.
_EXAMPLE_ULID = "01JD3Z6Q0G8V6M4X2K9T7B5N1S"


def example_id(prefix: str) -> str:
    """A well-formed example id of ``prefix`` (for schema examples and docs)."""
    return f"{prefix}_{_EXAMPLE_ULID}"


def prefixed_id(prefix: str) -> Any:
    """An ``Annotated[str, ...]`` type accepting only ids of ``prefix``."""
    noun = PREFIXES[prefix]
    article = "an" if noun[0] in "aeiou" else "a"

    def check(value: str) -> str:
        if not is_id(value, prefix):
            raise ValueError(f"expected {article} {noun} id like {example_id(prefix)!r}, got {value!r}")
        return value

    return Annotated[
        str,
        AfterValidator(check),
        Field(json_schema_extra={"pattern": id_pattern(prefix)}, examples=[example_id(prefix)]),
    ]


MerchantId = prefixed_id("mer")
OrderId = prefixed_id("ord")
LineItemId = prefixed_id("lin")
PaymentId = prefixed_id("pay")
RefundId = prefixed_id("rfd")
InvoiceId = prefixed_id("inv")
AppId = prefixed_id("app")
InstallId = prefixed_id("ins")
WebhookEndpointId = prefixed_id("whe")
DeliveryId = prefixed_id("dlv")
EventId = prefixed_id("evt")
NoteId = prefixed_id("not")

# --- text with a shape ------------------------------------------------------------------------

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""What Flint accepts as an email address: something@domain.tld, no spaces."""
EMAIL = re.compile(EMAIL_PATTERN)

Email = Annotated[
    str,
    StringConstraints(max_length=MAX_EMAIL_LENGTH, pattern=EMAIL_PATTERN),
    AfterValidator(check_text),
    Field(examples=["ada@example.com"]),
]

TAG_PATTERN = r"^[^/\s]([^/]*[^/\s])?$"
"""A tag appears in URLs (``PUT /v1/orders/{id}/tags/{tag}``): no slash, no surrounding spaces."""
TAG = re.compile(TAG_PATTERN)

Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TAG_LENGTH, pattern=TAG_PATTERN),
    AfterValidator(check_text),
    Field(examples=["wholesale"]),
]


def _not_negative(value: Money) -> Money:
    if value.amount < 0:
        raise ValueError(f"must not be negative, got {value}")
    return value


def _positive(value: Money) -> Money:
    if value.amount <= 0:
        raise ValueError(f"must be more than zero, got {value}")
    return value


NonNegativeMoney = Annotated[Money, AfterValidator(_not_negative)]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
