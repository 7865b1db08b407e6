"""Settings of the sandbox processor, from the environment of the service that uses it."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flint_chassis.config import with_database


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/postgres",
        alias="DATABASE_URL",
        description="Server-level PostgreSQL URL, the same the service uses; the ledger has its own database there.",
    )
    database: str = Field(
        default="flint_sandbox",
        alias="FLINT_SANDBOX_DATABASE",
        description="The sandbox ledger's database, created when missing. Every process that must see the "
        "same charges (refunds, invoicing, a checkout) names the same one.",
    )
    latency_ms: int = Field(
        default=0, ge=0, le=60_000, alias="FLINT_SANDBOX_LATENCY_MS",
        description="A fixed delay added to every call, as a real processor's round trip would.",
    )
    pool_max: int = Field(default=5, ge=1, alias="FLINT_SANDBOX_POOL_MAX", description="Ledger connections per process.")

    @property
    def ledger_url(self) -> str:
        return with_database(self.database_url, self.database)
