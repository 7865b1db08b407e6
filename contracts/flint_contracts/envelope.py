"""The event envelope every Flint topic carries (CloudEvents-like)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_EVENT_ID_LENGTH, MAX_EVENT_NAME_LENGTH
from flint_contracts.text import check_json, check_text

# Bounded, storable text: an envelope's ids and names become inbox keys and Kafka headers,
# so a NUL or a 3 KB id must be refused here, not fail later in a database index.
_Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EVENT_ID_LENGTH), AfterValidator(check_text)]
_Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EVENT_NAME_LENGTH), AfterValidator(check_text)]
_Json = AfterValidator(check_json)


class EventEnvelope(BaseModel):
    """One event or command on a Flint topic. ``id`` is stable across redeliveries."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_01JD3Z6Q0G8V6M4X2K9T7B5N1R",
                    "type": "order.created",
                    "source": "flint.orders",
                    "time": "2026-11-27T12:00:00Z",
                    "merchant_id": "mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K",
                    "subject": "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
                    "sequence": 1,
                    "version": 1,
                    "correlation_id": "evt_01JD3Z6Q0G8V6M4X2K9T7B5N1R",
                    "causation_id": None,
                    "data": {"order": {"id": "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S"}},
                    "previous": None,
                }
            ]
        },
    )

    id: _Id = Field(default_factory=lambda: new_id("evt"), description="Event id, stable across redeliveries.")
    type: _Name = Field(description="Event or command type from the type registry.", examples=["order.paid"])
    source: _Name = Field(description="The producing service.", examples=["flint.orders"])
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC), description="When it happened (UTC).")
    merchant_id: _Name | None = Field(default=None, description="The merchant whose data this is.")
    subject: _Name | None = Field(default=None, description="The aggregate it is about, usually the order id.")
    sequence: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                 description="The order's timeline sequence at this event.")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="The order's version after this event.")
    correlation_id: _Id | None = Field(default=None, description="Id shared by everything one request caused.")
    causation_id: _Id | None = Field(default=None, description="Id of the event or command that caused this one.")
    data: Annotated[dict[str, Any], _Json] = Field(default_factory=dict, description="The event's payload, by type.")
    previous: Annotated[dict[str, Any], _Json] | None = Field(
        default=None, description="Previous values of the changed fields.")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        return cls.model_validate_json(raw)
