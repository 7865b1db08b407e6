"""What every event and command payload shares: strict config and the envelope check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from flint_contracts.ids import is_id
from flint_contracts.money import Money


class ContractModel(BaseModel):
    """A part of a payload: unknown fields are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventData(ContractModel):
    """The ``data`` of one event or command type.

    Validated on its own, a payload checks only itself. Validated through
    :func:`flint_contracts.events.parse_data`, it also checks that it agrees with its
    envelope: the merchant, the subject (the order or install it is about) and the type
    (a ``refund.failed`` must carry a failed refund).
    """

    #: The payload field that must equal the envelope's ``subject``.
    subject_field: ClassVar[str | None] = None
    #: The id prefix the envelope's ``subject`` must have when no field names it.
    subject_prefix: ClassVar[str | None] = None

    @model_validator(mode="after")
    def _agrees_with_envelope(self, info: ValidationInfo) -> Self:
        envelope = (info.context or {}).get("envelope")
        if envelope is None:
            return self
        if not is_id(envelope.merchant_id, "mer"):
            raise ValueError(f"the envelope's merchant_id must be a merchant id, got {envelope.merchant_id!r}")
        own_merchant = getattr(self, "merchant_id", None)
        if own_merchant is not None and own_merchant != envelope.merchant_id:
            raise ValueError(f"merchant_id {own_merchant!r} differs from the envelope's {envelope.merchant_id!r}")
        if self.subject_field is not None:
            expected = getattr(self, self.subject_field)
            if envelope.subject != expected:
                raise ValueError(
                    f"the envelope's subject must be the {self.subject_field} {expected!r}, got {envelope.subject!r}"
                )
        if self.subject_prefix is not None and not is_id(envelope.subject, self.subject_prefix):
            raise ValueError(
                f"the envelope's subject must be an id starting with {self.subject_prefix}_, got {envelope.subject!r}"
            )
        self.check_type(envelope.type)
        return self

    def check_type(self, type_: str) -> None:
        """Raise ``ValueError`` when this payload contradicts the event type it travels as."""


def same_currency(currency: str, amounts: Iterable[tuple[str, Money]]) -> None:
    """Refuse any named amount not in ``currency`` (e.g. a refund line in USD on a EUR refund)."""
    for name, amount in amounts:
        if amount.currency != currency:
            raise ValueError(f"{name} is in {amount.currency} but the total is in {currency}")
