"""Settings shared by every service. Each service subclasses ``ServiceSettings`` in its own
``config.py`` and sets ``service_name``; values come from the environment (``.flint/stack.env``)."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", alias="KAFKA_BOOTSTRAP_SERVERS",
        description="Comma-separated Kafka bootstrap servers.",
    )
    kafka_plugin_bootstrap: str = Field(
        default="127.0.0.1:19094", alias="FLINT_KAFKA_PLUGIN_BOOTSTRAP",
        description="The broker's plugin listener (SASL_PLAINTEXT, SCRAM-SHA-512): the address apps "
                    "are given with their Kafka credential. Services never connect to it.",
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/postgres", alias="DATABASE_URL",
        description="Server-level PostgreSQL URL; the service uses its own database on it.",
    )
    database_name: str | None = Field(
        default=None, description="Overrides the service's database name (default flint_<service>).",
    )
    log_level: str = Field(default="INFO", alias="FLINT_LOG_LEVEL")
    db_pool_min: int = 2
    db_pool_max: int = 10
    outbox_poll_interval: float = Field(default=1.0, description="Seconds between outbox polls when no NOTIFY arrives.")
    consumer_max_attempts: int = Field(default=5, description="Tries before a failing message is dead-lettered.")
    consumer_retry_backoff: float = Field(default=0.2, description="First retry delay in seconds; doubles per try.")
    topic_partitions: int = 3
    installs_url: str = Field(
        default="http://127.0.0.1:8101", alias="FLINT_INSTALLS_URL",
        description="Public base URL of the installs service: the token issuer (`iss`) and where its JWKS is published.",
    )
    installs_internal_url: str | None = Field(
        default=None, alias="FLINT_INSTALLS_INTERNAL_URL",
        description="Where to fetch the issuer's JWKS when its public URL is not reachable from here "
                    "(inside docker-compose); default FLINT_INSTALLS_URL.",
    )

    @property
    def database(self) -> str:
        return self.database_name or f"flint_{self.service_name}"

    @property
    def issuer(self) -> str:
        return self.installs_url.rstrip("/")

    @property
    def jwks_url(self) -> str:
        return f"{(self.installs_internal_url or self.issuer).rstrip('/')}/.well-known/jwks.json"

    @property
    def service_database_url(self) -> str:
        return with_database(self.database_url, self.database)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """A URL safe to print: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
