"""Settings shared by every service. Each service subclasses ``ServiceSettings`` in its own
``config.py`` and sets ``service_name``; values come from the environment (``.flint/stack.env``)."""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flint_chassis.service_secret import secret_env_name


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"
    companions: ClassVar[tuple[type[BaseSettings], ...]] = ()
    """Other settings classes the service's processes read from the environment (e.g. the
    sandbox payment processor's), so ``environment_names`` covers everything they read."""

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
    outbox_linger: float = Field(
        default=0.005, ge=0, le=1,
        description="Seconds the outbox relay waits after a NOTIFY before it claims rows, so a burst of commits "
                    "goes out as one batch (fewer round trips per event under load; adds this much latency).",
    )
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
    consumer_commit_every: int = Field(
        default=100, ge=1,
        description="While a consumer works through a backlog, it commits its Kafka offsets after this many "
                    "messages (or consumer_commit_interval seconds), not after each one; once caught up it commits "
                    "after every message. What a crash leaves uncommitted is read again and stopped by the inbox.",
    )
    consumer_commit_interval: float = Field(
        default=1.0, gt=0, description="Longest time in seconds a backlogged consumer goes without committing.",
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

    # --- HTTP (flint_chassis.http) -------------------------------------------------------------
    secret: SecretStr | None = Field(
        default=None,
        description="The service's own secret, at least 32 random characters, read from FLINT_<SERVICE>_SECRET: "
                    "signs list cursors, encrypts stored idempotent responses that hold secrets. Every replica "
                    "needs the same one; `make up` generates one per service into .flint/secrets/.",
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest request body accepted; a larger one is a 413 before it is parsed.",
    )
    idempotency_ttl_hours: int = Field(
        default=48, ge=24, description="Hours an Idempotency-Key and its response are kept (at least 24).",
    )
    rate_limit_read_per_second: float = Field(
        default=100.0, gt=0, description="Requests per second per token on routes that read (GET, `*:read` scopes).")
    rate_limit_read_burst: int = Field(default=200, ge=1, description="Reads a token may make at once.")
    rate_limit_write_per_second: float = Field(
        default=50.0, gt=0, description="Requests per second per token on routes that change (`*:write` scopes).")
    rate_limit_write_burst: int = Field(default=100, ge=1, description="Writes a token may make at once.")
    retry_after_seconds: int = Field(
        default=2, ge=1, description="`Retry-After` of a 503 answered while the database does not answer.")

    # --- operations (metrics, traces, logs: docs/operations.md) ----------------------------------
    access_log: bool = Field(
        default=True, alias="FLINT_ACCESS_LOG",
        description="One log line per HTTP request (method, route, status, duration, correlation id, caller).",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="Send traces there with OTLP over HTTP (e.g. http://jaeger:4318); tracing is off when neither "
                    "this nor FLINT_TRACE_FILE is set.",
    )
    trace_file: str | None = Field(
        default=None, alias="FLINT_TRACE_FILE",
        description="Without an OTLP endpoint, append each span as one JSON line to this file "
                    "(`make up` uses .flint/traces/<service>.jsonl).",
    )

    @model_validator(mode="before")
    @classmethod
    def _service_secret_from_environment(cls, values: Any) -> Any:
        """``secret`` comes from FLINT_<SERVICE>_SECRET, named after the subclass's service."""
        if isinstance(values, dict) and values.get("secret") is None:
            found = os.environ.get(secret_env_name(cls.service_name))
            if found:
                values = {**values, "secret": found}
        return values

    @classmethod
    def environment_names(cls) -> set[str]:
        """Every environment variable the service reads: its settings, its secret and its
        companions' settings (deploy files are checked against this: a misspelt one is an error)."""
        names = {secret_env_name(cls.service_name)} | settings_environment_names(cls)
        for companion in cls.companions:
            names |= settings_environment_names(companion)
        return names

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
    def version(self) -> str:
        """The version of the service's package (``flint-<service>``)."""
        return service_version(self.service_name)

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


def service_version(service: str) -> str:
    """The installed version of ``flint-<service>``, or ``unknown``."""
    try:
        return metadata.version(f"flint-{service}")
    except metadata.PackageNotFoundError:
        return "unknown"


def settings_environment_names(settings: type[BaseSettings]) -> set[str]:
    """The variables a pydantic-settings class reads: each field's alias, else the class's
    prefix and the field's name (upper case, as they are written in deploy files)."""
    prefix = settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(f"{prefix}{name}".upper())
    return names


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
