"""Rows of webhook delivery, as the repository reads and writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ENABLED = "enabled"
DISABLED = "disabled"

PENDING = "pending"
DELIVERED = "delivered"
GIVEN_UP = "given_up"


class Sealer(Protocol):
    """Encrypts secrets at rest (the service secret's ``encrypt``/``decrypt``, AES-256-GCM)."""

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes: ...

    def decrypt(self, sealed: bytes, *, context: bytes) -> bytes: ...


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    install_id: str
    url: str
    status: str
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    """One event due for one endpoint. ``ordering_key`` is the event's subject (its order id):
    deliveries with the same endpoint and key go out one after another, in the order added."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    ordering_key: str
    body: bytes
    created_at: datetime
    traceparent: str | None = None  # the routing's trace, continued by each attempt (migration 0005)


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery reserved for one worker until its lease runs out."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    ordering_key: str
    position: int
    body: bytes
    attempts: int  # attempts made before this claim
    created_at: datetime
    url: str
    traceparent: str | None = None


@dataclass(frozen=True)
class RecordedAttempt:
    delivery_id: str
    number: int
    started_at: datetime
    latency_ms: int
    outcome: str
    reason: str | None
    detail: str
    status_code: int | None
    response_snippet: str


@dataclass(frozen=True)
class DeliveryRecord:
    """A delivery as its log shows it, with every attempt made (``attempt_log``, first to last)."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    ordering_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    attempt_log: tuple[RecordedAttempt, ...] = ()

