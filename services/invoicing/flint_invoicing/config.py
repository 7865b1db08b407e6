"""Settings of the invoicing service. Values come from the environment (``.flint/stack.env``
written by ``make up``); tests pass them as keyword arguments."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings

from flint_chassis.config import ServiceSettings
from flint_contracts.literals import INVOICING_AUDIENCE
from flint_payments import SandboxSettings

AUDIENCE = INVOICING_AUDIENCE  # what tokens for this service name in `aud`


class InvoicingSettings(ServiceSettings):
    service_name: ClassVar[str] = "invoicing"
    companions: ClassVar[tuple[type[BaseSettings], ...]] = (SandboxSettings,)  # it opens the sandbox processor

    host: str = Field(default="127.0.0.1", alias="FLINT_INVOICING_HOST", description="Address the HTTP server binds.")
    port: int = Field(default=8104, alias="FLINT_INVOICING_PORT", description="Port the HTTP server listens on.")
    workers: int = Field(default=1, ge=1, alias="FLINT_INVOICING_WORKERS", description="HTTP worker processes.")
    role: Literal["all", "api", "worker"] = Field(
        default="all", alias="FLINT_INVOICING_ROLE",
        description="`api` serves HTTP (the API and the pay pages) only; `worker` runs the Kafka consumers, the "
                    "outbox relay, follow-up and the mail sender; `all` both.",
    )
    consumer_group_prefix: str = Field(
        default="", alias="FLINT_INVOICING_GROUP_PREFIX",
        description="Prefix of every Kafka consumer group (and inbox name) of this service; tests isolate runs with it.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8104",
        validation_alias=AliasChoices("FLINT_INVOICING_PUBLIC_URL", "FLINT_INVOICING_URL", "public_url"),
        description="Base URL buyers and clients reach this service under: pay links are <public_url>/pay/<token>, "
                    "and it is the `servers` entry of the OpenAPI document. Falls back to FLINT_INVOICING_URL.",
    )
    token_cache_size: int = Field(
        default=10_000, description="Verified tokens kept in memory until they expire (skips re-checking signatures).",
    )

    # --- time -------------------------------------------------------------------------------------
    clock_offset: float = Field(
        default=0.0, alias="FLINT_INVOICING_CLOCK_OFFSET",
        description="Seconds added to the real time wherever the service reads the time (due dates, follow-up, "
                    "link expiry). For tests and demos that move time forward instead of waiting; leave 0 in "
                    "production.",
    )

    # --- follow-up and mail -----------------------------------------------------------------------
    followup_interval: float = Field(
        default=5.0, gt=0, alias="FLINT_INVOICING_FOLLOWUP_INTERVAL",
        description="Seconds between looks for follow-up that is due (invoice emails, reminders, overdue).",
    )
    mail_interval: float = Field(
        default=2.0, gt=0, alias="FLINT_INVOICING_MAIL_INTERVAL",
        description="Seconds between looks for mail waiting to be sent.",
    )
    mail_retry_delays: list[float] = Field(
        default=[10, 30, 60, 300, 900, 3600, 3600, 3600], min_length=1,
        description="Seconds before each new try of a message the SMTP server did not take (down, or a 4xx "
                    "answer); when they are used up the message is given up and logged. JSON list.",
    )
    smtp_host: str = Field(default="127.0.0.1", alias="FLINT_SMTP_HOST", description="SMTP server for invoice mail.")
    smtp_port: int = Field(default=8025, ge=1, le=65535, alias="FLINT_SMTP_PORT", description="Its port.")
    smtp_starttls: bool = Field(
        default=False, alias="FLINT_SMTP_STARTTLS", description="Upgrade the connection with STARTTLS (real servers)."
    )
    smtp_username: str | None = Field(default=None, alias="FLINT_SMTP_USERNAME", description="Login, if the server wants one.")
    smtp_password: SecretStr | None = Field(default=None, alias="FLINT_SMTP_PASSWORD", description="Its password.")
    smtp_timeout: float = Field(
        default=10.0, gt=0, alias="FLINT_SMTP_TIMEOUT", description="Seconds to wait for the SMTP server at each step."
    )
    mail_from: str = Field(
        default="invoices@flint.localhost", alias="FLINT_MAIL_FROM",
        description="The address invoice mail comes from; the merchant's name is shown with it, replies go to the merchant.",
    )

    # --- payments ------------------------------------------------------------------------------------
    sandbox_database: str | None = Field(
        default=None, alias="FLINT_SANDBOX_DATABASE",
        description="The sandbox processor's ledger database (flint_payments.SandboxSettings; default flint_sandbox). "
                    "Every process that must see the same charges (invoicing, refunds) names the same one.",
    )

    # --- the pay page -----------------------------------------------------------------------------
    pay_form_max_age: int = Field(
        default=3600, ge=60, alias="FLINT_INVOICING_PAY_FORM_MAX_AGE",
        description="Seconds a pay form stays valid (its CSRF token); an older one asks the buyer to enter the card again.",
    )
    pay_lock_timeout: float = Field(
        default=30.0, gt=0, alias="FLINT_INVOICING_PAY_LOCK_TIMEOUT",
        description="Seconds a payment waits for another payment of the same invoice (a second tab) to finish.",
    )
