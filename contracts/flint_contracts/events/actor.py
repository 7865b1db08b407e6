"""Who did something to an order: a merchant, an app, the system or the buyer."""

from __future__ import annotations

from typing import Self

from pydantic import ConfigDict, Field, model_validator

from flint_contracts.events.base import ContractModel
from flint_contracts.fields import example_id
from flint_contracts.ids import is_id
from flint_contracts.limits import MAX_EVENT_NAME_LENGTH
from flint_contracts.literals import ActorType
from flint_contracts.text import SafeStr


class Actor(ContractModel):
    """The actor of a change. Merchants and apps are named by their ids; the system optionally by
    the service that acted (``flint.invoicing``); a buyer by nothing or the customer's email."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"type": "app", "id": example_id("app")}]})

    type: ActorType = Field(description="What kind of actor it was.", examples=["app", "merchant"])
    id: SafeStr | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_EVENT_NAME_LENGTH,
        description="The merchant id (mer_) or app id (app_), required for those; optional otherwise.",
        examples=[example_id("app"), "flint.invoicing"],
    )

    @model_validator(mode="after")
    def _id_fits_type(self) -> Self:
        prefix = {"merchant": "mer", "app": "app"}.get(self.type)
        if prefix is not None and not is_id(self.id, prefix):
            raise ValueError(f"a {self.type} actor needs its {prefix}_ id, got {self.id!r}")
        return self
