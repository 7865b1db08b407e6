"""``Event[M]``: what a subscription handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from flint_contracts.envelope import EventEnvelope

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Event(Generic[M]):
    """A consumed event whose envelope and data have been validated: ``data`` is the contract
    model of its type (``flint_contracts.events.data_model``), or the raw dict for a
    registered type that has no model yet. ``raw`` is the message's value byte for byte, for
    handlers that pass the event on unchanged (installs' router copies it to app topics)."""

    envelope: EventEnvelope
    data: M
    raw: bytes | None = None

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def merchant_id(self) -> str | None:
        return self.envelope.merchant_id

    @property
    def subject(self) -> str | None:
        return self.envelope.subject

    @property
    def time(self) -> datetime:
        return self.envelope.time

    @property
    def source(self) -> str:
        return self.envelope.source

    @property
    def correlation_id(self) -> str:
        """The correlation id it carries, or its own id when it starts a chain."""
        return self.envelope.correlation_id or self.envelope.id
