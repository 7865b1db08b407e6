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
    consumer_retry_backoff: float = Field(
        default=0.1, gt=0,
        description="First delay in seconds of a retry in place (database unreachable, transient conflict); "
                    "doubles per try, with jitter.",
    )
    consumer_infra_backoff_max: float = Field(
        default=5.0, gt=0, description="Longest wait in seconds between tries while the database is unreachable.",
    )
    consumer_conflict_retries: int = Field(
        default=3, ge=0,
        description="Quick retries in place of a message that hit a transient conflict (serialization failure, "
                    "deadlock, a concurrent change) before it is parked.",
    )
    consumer_park_delays: list[float] = Field(
        default=[1, 2, 5, 10, 30, 60, 120, 300, 300], min_length=0,
        description="Delays in seconds before each new try of a parked message (RetryLater); when they are used "
                    "up it is dead-lettered. The default adds up to about 14 minutes. JSON list in the environment.",
    )
    consumer_redrive_interval: float = Field(
        default=1.0, gt=0, description="Seconds between looks for parked messages that are due.",
    )
    consumer_stall_seconds: float = Field(
        default=60.0, gt=0,
        description="A consumed partition with lag and no progress for this long makes /readyz fail.",
    )
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
    def serves_http(self) -> bool:
        """True unless the process runs as ``--role worker`` (services declare ``role``)."""
        return getattr(self, "role", "all") in ("all", "api")

    @property
    def runs_worker(self) -> bool:
        """True unless the process runs as ``--role api``: consumers and the outbox relay."""
        return getattr(self, "role", "all") in ("all", "worker")

    def group(self, name: str) -> str:
        """A consumer group id (also the inbox's consumer name): ``<prefix><service>.<name>``;
        services that let tests isolate runs declare ``consumer_group_prefix``."""
        return f"{getattr(self, 'consumer_group_prefix', '')}{self.service_name}.{name}"

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
