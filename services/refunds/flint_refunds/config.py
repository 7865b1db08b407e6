"""Settings of the refunds service. Values come from the environment (``.flint/stack.env``
written by ``make up``); tests pass them as keyword arguments. The payment processor (the
sandbox) reads its own settings (``flint_payments.SandboxSettings``: ``FLINT_SANDBOX_DATABASE``,
``FLINT_SANDBOX_LATENCY_MS``) on the same ``DATABASE_URL``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from flint_chassis.config import ServiceSettings
from flint_contracts.literals import REFUNDS_AUDIENCE
from flint_payments import SandboxSettings

AUDIENCE = REFUNDS_AUDIENCE  # what tokens for this service name in `aud`


class RefundsSettings(ServiceSettings):
    service_name: ClassVar[str] = "refunds"
    companions: ClassVar[tuple[type[BaseSettings], ...]] = (SandboxSettings,)  # the processor reads its own

    host: str = Field(default="127.0.0.1", alias="FLINT_REFUNDS_HOST", description="Address the HTTP server binds.")
    port: int = Field(default=8103, alias="FLINT_REFUNDS_PORT", description="Port the HTTP server listens on.")
    workers: int = Field(
        default=1, ge=1, alias="FLINT_REFUNDS_WORKERS",
        description="HTTP worker processes. Each runs the whole service (relays, consumers and refund runners may "
                    "run side by side).",
    )
    role: Literal["all", "api", "worker"] = Field(
        default="all", alias="FLINT_REFUNDS_ROLE",
        description="`api` serves HTTP only, `worker` runs the Kafka consumers, the outbox relay and the resumption "
                    "of pending refunds, `all` both.",
    )
    consumer_group_prefix: str = Field(
        default="", alias="FLINT_REFUNDS_GROUP_PREFIX",
        description="Prefix of every Kafka consumer group (and inbox name) of this service; tests isolate runs with it.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8103", alias="FLINT_REFUNDS_URL",
        description="Where clients reach this service: the `servers` entry of its OpenAPI document.",
    )
    token_cache_size: int = Field(
        default=10_000, description="Verified tokens kept in memory until they expire (skips re-checking signatures).",
    )

    # --- running refunds on the processor (docs/refunds.md, "How a refund runs") -------------------
    refund_answer_wait: float = Field(
        default=5.0, ge=0, alias="FLINT_REFUNDS_ANSWER_WAIT",
        description="Seconds `POST /v1/refunds` waits for the processor before it answers with the refund still "
                    "`pending` (a worker finishes it). 0: answer at once and leave every refund to the workers.",
    )
    refund_lease_seconds: float = Field(
        default=60.0, gt=0, alias="FLINT_REFUNDS_LEASE_SECONDS",
        description="How long a refund being run belongs to the process running it. A refund still pending after "
                    "that (its runner died) is resumed by a worker, with the same idempotency keys.",
    )
    refund_poll_interval: float = Field(
        default=1.0, gt=0, alias="FLINT_REFUNDS_POLL_INTERVAL",
        description="Seconds between a worker's looks for pending refunds that are due.",
    )
    refund_retry_backoff: float = Field(
        default=1.0, gt=0, alias="FLINT_REFUNDS_RETRY_BACKOFF",
        description="First delay in seconds before a refund whose processor call may succeed later is run again; "
                    "doubles per attempt, with jitter.",
    )
    refund_retry_backoff_max: float = Field(
        default=300.0, gt=0, alias="FLINT_REFUNDS_RETRY_BACKOFF_MAX",
        description="Longest delay in seconds between two runs of one refund. A refund is retried until the "
                    "processor gives an answer: an unknown outcome is never taken for a failure.",
    )
    processor_timeout: float = Field(
        default=30.0, gt=0, alias="FLINT_REFUNDS_PROCESSOR_TIMEOUT",
        description="Seconds one processor call may take; after that its outcome counts as unknown and the "
                    "refund is run again later with the same idempotency key.",
    )
