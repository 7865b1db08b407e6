"""Merchants (``flint.installs.events.v1``, keyed by merchant id; internal, never delivered
to plugins)."""

from __future__ import annotations

from pydantic import AwareDatetime, ConfigDict, Field

from flint_contracts.events.base import EventData
from flint_contracts.fields import MerchantId, example_id
from flint_contracts.limits import MAX_NAME_LENGTH
from flint_contracts.text import SafeStr

_TIME = "2026-11-27T12:00:00Z"


class MerchantData(EventData):
    """``merchant.created``: a merchant joined Flint. Services that show the merchant to its
    buyers (the invoicing service's pay page, PDF and mail) keep a copy of its display name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"merchant_id": example_id("mer"), "name": "Acme Outdoor", "created_at": _TIME}]
        }
    )
    subject_field = "merchant_id"

    merchant_id: MerchantId = Field(description="The merchant.", examples=[example_id("mer")])
    name: SafeStr = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="The merchant's display name.",
                          examples=["Acme Outdoor"])
    created_at: AwareDatetime = Field(description="When the merchant was created.", examples=[_TIME])
