"""Read a Flint event, from a webhook body or a Kafka message, as typed models.

    event = read_event(request_body)          # after webhooks.verify(...)
    if event.type == "order.paid":
        ...

``data`` is the model ``flint_contracts`` has for the event's type (refund events carry the
refund with its lines, reason and actor; install events the install). A type the contracts
have no data model for yet keeps its data as the dict Flint sent, so a plugin built against
an older SDK still reads newer events. Nothing here needs a Flint service installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts.envelope import EventEnvelope
from flint_contracts.event_types import UnknownEventTypeError
from flint_contracts.events import EventData, NoDataModelError, parse_data


@dataclass(frozen=True)
class Event:
    """One event: its envelope (id, type, time, merchant, subject, sequence, previous ...)
    and its data as the model of its type (or a dict when the type has none)."""

    envelope: EventEnvelope
    data: EventData | dict[str, Any]

    @property
    def id(self) -> str:
        """Stable across redeliveries: deduplicate on it."""
        return self.envelope.id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def subject(self) -> str | None:
        """What the event is about: the order id (an install id for ``install.*``)."""
        return self.envelope.subject

    @property
    def merchant_id(self) -> str | None:
        return self.envelope.merchant_id

    @property
    def sequence(self) -> int | None:
        """The order's timeline sequence at this event: per order, events arrive in this order."""
        return self.envelope.sequence

    @property
    def time(self) -> datetime:
        return self.envelope.time

    @property
    def previous(self) -> dict[str, Any] | None:
        """The changed fields' values before this event."""
        return self.envelope.previous


def typed_data(envelope: EventEnvelope) -> EventData | dict[str, Any]:
    """``envelope.data`` as its contract model; as sent when its type has no model (yet).

    Raises ``pydantic.ValidationError`` when the data does not fit its model.
    """
    try:
        return parse_data(envelope)
    except (NoDataModelError, UnknownEventTypeError):
        return envelope.data


def read_event(raw: bytes | str) -> Event:
    """The event in ``raw`` (JSON). Raises ``pydantic.ValidationError`` naming the field when
    it is not a well-formed Flint event."""
    envelope = EventEnvelope.model_validate_json(raw)
    return Event(envelope, typed_data(envelope))
