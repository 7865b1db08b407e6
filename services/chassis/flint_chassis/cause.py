"""Why a change happens: carried from a request or a message onto the events the change emits,
so a plugin can follow one correlation id from an API call through every event it caused."""

from __future__ import annotations

from dataclasses import dataclass

from flint_chassis.logs import current_correlation_id
from flint_contracts.envelope import EventEnvelope


@dataclass(frozen=True)
class Cause:
    """The correlation id of the request or message, and the id of the event or command that
    caused the change (none for an API call)."""

    correlation_id: str | None = None
    causation_id: str | None = None

    @classmethod
    def of(cls, event: EventEnvelope) -> Cause:
        """A change made while handling ``event``."""
        return cls(correlation_id=event.correlation_id or event.id, causation_id=event.id)

    @classmethod
    def of_request(cls) -> Cause:
        """A change made by the HTTP request being served."""
        return cls(correlation_id=current_correlation_id())
