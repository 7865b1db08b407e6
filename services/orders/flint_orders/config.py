"""Settings of the orders service. Values come from the environment (``.flint/stack.env``
written by ``make up``); tests pass them as keyword arguments."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from flint_chassis.config import ServiceSettings
from flint_contracts.literals import ORDERS_AUDIENCE

AUDIENCE = ORDERS_AUDIENCE  # what tokens for this service name in `aud`


class OrdersSettings(ServiceSettings):
    service_name: ClassVar[str] = "orders"

    host: str = Field(default="127.0.0.1", alias="FLINT_ORDERS_HOST", description="Address the HTTP server binds.")
    port: int = Field(default=8102, alias="FLINT_ORDERS_PORT", description="Port the HTTP server listens on.")
    workers: int = Field(
        default=1, ge=1, alias="FLINT_ORDERS_WORKERS",
        description="HTTP worker processes. Each runs the whole service (relays and consumers may run side by side).",
    )
    role: Literal["all", "api", "worker"] = Field(
        default="all", alias="FLINT_ORDERS_ROLE",
        description="`api` serves HTTP only, `worker` runs the Kafka consumers and the outbox relay, `all` both.",
    )
    consumer_group_prefix: str = Field(
        default="", alias="FLINT_ORDERS_GROUP_PREFIX",
        description="Prefix of every Kafka consumer group (and inbox name) of this service; tests isolate runs with it.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8102", alias="FLINT_ORDERS_URL",
        description="Where clients reach this service: the `servers` entry of its OpenAPI document.",
    )
    token_cache_size: int = Field(
        default=10_000, description="Verified tokens kept in memory until they expire (skips re-checking signatures).",
    )
