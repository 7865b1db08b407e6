"""Field types shared by contract models and service APIs: prefixed ids and signed money.

``order_id: OrderId`` refuses ``"pay_..."`` and ``"42"`` with a message naming the kind of
id expected, and documents the id's pattern in the JSON schema. ``PositiveMoney`` and
``NonNegativeMoney`` are :class:`~flint_contracts.money.Money` with a sign rule.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from flint_contracts.ids import PREFIXES, id_pattern, is_id
from flint_contracts.money import Money

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
