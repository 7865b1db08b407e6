"""What the webhook endpoints API and the event feed take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flint_contracts.envelope import EventEnvelope
from flint_contracts.fields import example_id
from flint_contracts.limits import (
    DEFAULT_SECRET_OVERLAP_SECONDS,
    MAX_SECRET_OVERLAP_SECONDS,
    MAX_URL_LENGTH,
    WEBHOOK_RESPONSE_SNIPPET_BYTES,
)
from flint_installs.delivery.endpoints import EndpointView
from flint_installs.delivery.model import DeliveryRecord, RecordedAttempt

_URL_EXAMPLE = "https://plugin.example/flint/webhooks"


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, examples=[_URL_EXAMPLE], description=(
        "Where events are POSTed: https:// to a public address (http:// to loopback only where the development "
        "setting allows it). Checked now and again on every delivery."))


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_seconds: int = Field(
        default=DEFAULT_SECRET_OVERLAP_SECONDS, ge=0, le=MAX_SECRET_OVERLAP_SECONDS, examples=[86400],
        description="How long the secrets signing until now keep signing beside the new one (0: stop at once).")


class SigningSecret(BaseModel):
    hint: str = Field(description="The secret's last four characters.", examples=["x9Qz"])
    created_at: datetime
    expires_at: datetime | None = Field(description="When it stops signing; null while it is the current one.")


class EndpointOut(BaseModel):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str = Field(examples=[example_id("whe")])
    install_id: str = Field(examples=[example_id("ins")])
    url: str = Field(examples=[_URL_EXAMPLE])
    status: Literal["enabled", "disabled"]
    signing_secrets: list[SigningSecret] = Field(
        description="The secrets that sign deliveries now, newest first: one `v1` signature each.")
    failing_since: datetime | None = Field(description="The first failure since the last delivered attempt.")
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: EndpointView) -> EndpointOut:
        e = view.endpoint
        return cls(id=e.id, install_id=e.install_id, url=e.url, status=e.status,  # type: ignore[arg-type]
                   signing_secrets=[SigningSecret(hint=h, created_at=c, expires_at=x) for h, c, x in view.secrets],
                   failing_since=e.failing_since, disabled_at=e.disabled_at, disabled_reason=e.disabled_reason,
                   created_at=e.created_at, updated_at=e.updated_at)


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="The new signing secret (`whsec_…`). Shown only in this response.",
                        examples=["whsec_3q2-7wEXAMPLEj4G0xrKp1Vb0Qm2sYtG9nLZ8aF6cUeI"])

    @classmethod
    def with_secret(cls, view: EndpointView, secret: str) -> EndpointWithSecret:
        return cls(**EndpointOut.of(view).model_dump(), secret=secret)


class EndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EndpointOut]
    has_more: bool
    next_cursor: str | None


class AttemptOut(BaseModel):
    number: int = Field(description="1 for the first attempt.")
    started_at: datetime
    latency_ms: int = Field(description="From the start of the attempt to its outcome.")
    outcome: Literal["delivered", "failed"]
    reason: str | None = Field(description="Why it failed (docs/webhooks.md: `http_status`, `timeout`, …).",
                               examples=["http_status"])
    detail: str = Field(examples=["answered 503"])
    status_code: int | None = Field(description="The receiver's HTTP status, when it answered.")
    response_snippet: str = Field(
        description=f"The first {WEBHOOK_RESPONSE_SNIPPET_BYTES} bytes of the answer, as text.")

    @classmethod
    def of(cls, attempt: RecordedAttempt) -> AttemptOut:
        return cls(number=attempt.number, started_at=attempt.started_at, latency_ms=attempt.latency_ms,
                   outcome=attempt.outcome, reason=attempt.reason, detail=attempt.detail,  # type: ignore[arg-type]
                   status_code=attempt.status_code, response_snippet=attempt.response_snippet)


class DeliveryOut(BaseModel):
    object: Literal["webhook_delivery"] = "webhook_delivery"
    id: str = Field(examples=[example_id("dlv")])
    webhook_endpoint_id: str = Field(examples=[example_id("whe")])
    event_id: str = Field(examples=[example_id("evt")])
    event_type: str = Field(examples=["order.paid"])
    subject: str = Field(description="What the event is about (the order id): its events go out in order.")
    status: Literal["pending", "delivered", "given_up"]
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptOut] = Field(description="Every attempt, first to last.")

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> DeliveryOut:
        return cls(id=delivery.id, webhook_endpoint_id=delivery.endpoint_id, event_id=delivery.event_id,
                   event_type=delivery.event_type, subject=delivery.ordering_key,
                   status=delivery.status,  # type: ignore[arg-type]
                   next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
                   created_at=delivery.created_at, finished_at=delivery.finished_at,
                   attempts=[AttemptOut.of(a) for a in delivery.attempt_log])


class DeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryOut]
    has_more: bool
    next_cursor: str | None


class EventFeedPage(BaseModel):
    object: Literal["list"] = "list"
    data: list[EventEnvelope] = Field(description="The install's events, oldest first, as its topic holds them.")
    has_more: bool = Field(description="Whether more events follow right now.")
    next_cursor: str | None = Field(description=(
        "Pass as `after` to read on: the next page now, or what arrives later. Null only when there is nothing "
        "yet."))
