"""Settings of webhook delivery. Values come from ``FLINT_WEBHOOKS_*`` environment variables;
tests pass them as keyword arguments. ``InstallsSettings.webhooks`` holds them for the service."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flint_contracts.limits import WEBHOOK_RESPONSE_SNIPPET_BYTES
from flint_installs.delivery.retry import RetryPolicy

_DAY = 86400.0


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLINT_WEBHOOKS_", extra="ignore")

    allow_loopback: bool = Field(
        default=False,
        description="Development only: accept http:// endpoints on loopback addresses and send to loopback "
                    "addresses (127.0.0.1, ::1, localhost). Private, link-local and metadata addresses stay refused.",
    )
    connect_timeout: float = Field(default=2.0, gt=0, description="Seconds to resolve and connect to a receiver.")
    total_timeout: float = Field(default=10.0, gt=0,
                                 description="Seconds one attempt may take in all, answer included.")
    response_snippet_bytes: int = Field(
        default=WEBHOOK_RESPONSE_SNIPPET_BYTES, ge=0, le=WEBHOOK_RESPONSE_SNIPPET_BYTES,
        description="Bytes of the receiver's answer kept in the delivery log; the rest is never read.",
    )
    max_connections: int = Field(default=100, ge=1, description="Connections the sender keeps open at most.")
    keepalive_expiry: float = Field(default=30.0, ge=0, description="Seconds an idle connection to a receiver is kept.")

    retry_first_delay: float = Field(default=10.0, gt=0, description="Upper bound of the first retry's delay (s).")
    retry_max_delay: float = Field(default=6 * 3600.0, gt=0, description="Upper bound of any retry's delay (s).")
    retry_window: float = Field(default=3 * _DAY, gt=0, description="Seconds after which a delivery is given up.")
    disable_after: float = Field(
        default=3 * _DAY, gt=0,
        description="Seconds an endpoint may fail without a single success before it is disabled.",
    )
    claim_lease: float = Field(
        default=60.0, gt=0,
        description="Seconds a claimed delivery is reserved for the worker that claimed it; after a crash it is "
                    "claimed again. Must exceed total_timeout.",
    )

    secrets_cache_seconds: float = Field(
        default=1.0, ge=0,
        description="Seconds an endpoint's signing secrets are kept in memory between reads (a rotation reaches "
                    "deliveries within this time; 0 reads them for every delivery).",
    )
    concurrency: int = Field(default=50, ge=1, description="Attempts one worker process has on the wire at most.")
    poll_interval: float = Field(
        default=1.0, gt=0,
        description="Seconds between looks for retries that became due; a newly queued delivery wakes the sender at "
                    "once.",
    )

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> DeliverySettings:
        # A lease that ran out mid-attempt would let a second worker send the same delivery.
        if self.claim_lease <= self.total_timeout:
            raise ValueError("claim_lease must be longer than total_timeout")
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            first_delay=timedelta(seconds=self.retry_first_delay),
            max_delay=timedelta(seconds=self.retry_max_delay),
            window=timedelta(seconds=self.retry_window),
            disable_after=timedelta(seconds=self.disable_after),
        )
