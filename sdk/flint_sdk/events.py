"""Read a Flint event, from a webhook body or a Kafka message, as typed models.

    event = read_event(request_body)          # after webhooks.verify(...)
    if event.type == "order.paid":
        print(event.data.order.amounts.balance_due)

Every type's ``data`` model comes from ``flint_contracts``: order events carry the whole
order record (``OrderEventData.order``), refund events the refund with its lines, reason
and actor. Nothing here needs a Flint service installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import EventData, parse_data


@dataclass(frozen=True)
class Event:
    """One event: its envelope (id, type, time, merchant, subject, sequence, previous ...)
    and its data as the model of its type."""

    envelope: EventEnvelope
    data: EventData

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def id(self) -> str:
        """Stable across redeliveries: deduplicate on it."""
        return self.envelope.id


def read_event(raw: bytes | str) -> Event:
    """The event in ``raw`` (JSON). Raises ``pydantic.ValidationError`` naming the field when
    it is not a well-formed Flint event, and ``KeyError`` for a type this SDK does not know."""
    envelope = EventEnvelope.model_validate_json(raw)
    return Event(envelope, parse_data(envelope))
