"""Settings of the installs service. Values come from the environment (``.flint/stack.env``
written by ``make up``); tests pass them as keyword arguments."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from flint_chassis.config import ServiceSettings
from flint_installs.delivery.config import DeliverySettings

# Services whose base URL the discovery document lists, each read from FLINT_<NAME>_URL.
SERVICE_NAMES = ("installs", "orders", "refunds", "invoicing")


class InstallsSettings(ServiceSettings):
    service_name: ClassVar[str] = "installs"

    host: str = Field(default="127.0.0.1", alias="FLINT_INSTALLS_HOST", description="Address the HTTP server binds.")
    port: int = Field(default=8101, alias="FLINT_INSTALLS_PORT", description="Port the HTTP server listens on.")
    workers: int = Field(default=1, ge=1, alias="FLINT_INSTALLS_WORKERS", description="HTTP worker processes.")
    role: Literal["all", "api", "worker"] = Field(
        default="all", alias="FLINT_INSTALLS_ROLE",
        description="`api` serves HTTP only, `worker` runs the outbox relay, the event router and the webhook sender "
                    "(HTTP: health only), `all` both.",
    )
    orders_url: str | None = Field(default=None, alias="FLINT_ORDERS_URL")
    refunds_url: str | None = Field(default=None, alias="FLINT_REFUNDS_URL")
    invoicing_url: str | None = Field(default=None, alias="FLINT_INVOICING_URL")

    admin_key: SecretStr | None = Field(
        default=None, alias="FLINT_ADMIN_KEY",
        description="The platform admin key: creates merchants and registers apps.",
    )

    access_token_ttl: int = Field(default=900, description="Access token lifetime in seconds (15 minutes).")
    refresh_token_ttl: int = Field(default=30 * 86400, description="Refresh token lifetime in seconds.")
    authorization_code_ttl: int = Field(default=60, description="Authorization code lifetime in seconds.")
    session_ttl: int = Field(default=1800, description="Merchant login session lifetime in seconds.")
    signing_key_rotation: int = Field(default=30 * 86400, description="Seconds a signing key signs before the next one takes over.")
    key_cache_seconds: float = Field(default=30.0, description="How long a replica trusts its cached key set before rereading it.")
    housekeeping_interval: float = Field(default=600.0, description="Seconds between purges of expired codes and tokens.")
    deliver_events: bool = Field(
        default=True, alias="FLINT_INSTALLS_DELIVER_EVENTS",
        description="Deliver events to plugins: the router and the webhook sender in worker processes, and each "
                    "app's Kafka read access kept in line with its installs. Off, the service only publishes "
                    "its own events (the tests of other parts run it so).",
    )
    consumer_group_prefix: str = Field(
        default="", alias="FLINT_INSTALLS_GROUP_PREFIX",
        description="Prefix of every Kafka consumer group (and inbox name) of this service; tests isolate runs with it.",
    )
    router_consumers: int = Field(
        default=3, ge=1, alias="FLINT_INSTALLS_ROUTER_CONSUMERS",
        description="Kafka consumers of order events in each worker process, routing side by side (more than the "
                    "topic's partitions stay idle).",
    )
    event_feed_days: int = Field(
        default=30, ge=1, description="Days the event feed (GET /v1/events) and the webhook delivery log keep an event.",
    )
    kafka_access_interval: float = Field(
        default=5.0, gt=0, description="Seconds between tries of an app's Kafka access change the broker has not taken.",
    )
    kafka_admin_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a Kafka admin call (credentials, ACLs, topics) may take.",
    )
    webhooks: DeliverySettings = Field(
        default_factory=DeliverySettings, description="Webhook delivery (FLINT_WEBHOOKS_* variables).",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Mark cookies Secure; by default when FLINT_INSTALLS_URL is https.",
    )

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.issuer.startswith("https://")

    def service_urls(self) -> dict[str, str]:
        """Base URL of every service whose URL is configured (installs always)."""
        urls = {"installs": self.issuer}
        for name in SERVICE_NAMES[1:]:
            if value := getattr(self, f"{name}_url"):
                urls[name] = value.rstrip("/")
        return urls
