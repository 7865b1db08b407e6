"""JSON logs, one object per line, with the service name and the context of the work at hand.

Built on structlog: its ``ProcessorFormatter`` renders every stdlib record (Flint's own and
those of uvicorn, aiokafka, asyncpg) and structlog's own loggers alike, and its contextvars
carry the correlation id (and anything else bound with :func:`bind`) into every line logged
while a request or message is handled. Values under keys that look secret are masked, and
so are bearer tokens and ``secret=...`` pairs inside messages and tracebacks.

A line: ``{"time", "level", "service", "logger", "message", "correlation_id"?, "trace_id"?, "error"?, ...}``:
``trace_id`` is the OpenTelemetry trace of the work at hand (``flint_chassis.tracing``),
present whenever there is one, also while tracing is off and an incoming ``traceparent``
is carried through.

Lines written on every request or message (the access line, the consumer's line) take a
shorter road to the same JSON (:func:`log_fields`): a line through the whole processor chain
costs about as much as a cached order read.

Kafka's client logs retriable errors of a normal start (the group coordinator not available
yet, a rebalance) at ERROR or WARNING; :class:`QuietKafkaStartup` writes them below WARNING.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from structlog.contextvars import bound_contextvars, get_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

from flint_chassis.tracing import current_trace_id

_SECRET_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|((?:secret|password|token|code_verifier|client_secret|authorization)"
    r"[\"']?\s*[=:]\s*[\"']?(?:(?:bearer|basic)\s+)?)[^\s&\"',]+"
)
_SECRET_KEY = re.compile(r"(?i)secret|password|token|code_verifier|authorization|api_key")

def _add_trace_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    trace_id = current_trace_id()
    if trace_id is not None:
        event["trace_id"] = trace_id
    return event


# What every line gets, whether it came from a stdlib logger or a structlog one.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    _add_trace_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def current_correlation_id() -> str | None:
    """The correlation id of the request or message being handled, if any."""
    return get_contextvars().get("correlation_id")


@contextlib.contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Every line logged inside carries ``correlation_id`` (none when it is None)."""
    with bound_contextvars(correlation_id=correlation_id):
        yield


def bind(**context: Any) -> contextlib.AbstractContextManager[None]:
    """Every line logged inside carries ``context`` (e.g. ``bind(event_id=..., topic=...)``)."""
    return bound_contextvars(**context)


def mask_secrets(text: str) -> str:
    return _SECRET_PATTERNS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def _masked(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = "***" if _SECRET_KEY.search(key) else mask_secrets(value)
    return event


def _without_empty_correlation(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    if event.get("correlation_id") is None:
        event.pop("correlation_id", None)
    return event


def _of_service(service: str) -> Processor:
    def add(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event["service"] = service
        return event

    return add


FIELDS = "flint_fields"  # the LogRecord attribute log_fields() puts its fields in


def log_fields(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` on a line of their own, the cheap way: for lines written
    on every request or message. Field values must be plain JSON values and never secrets
    (the message is still masked)."""
    if logger.isEnabledFor(level):
        # makeRecord + handle: what logger.log does, less finding the caller's frame (a third
        # of the cost); these lines say where they come from in their logger name.
        logger.handle(logger.makeRecord(logger.name, level, "", 0, message, None, None, extra={FIELDS: fields}))


class _FlintFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, with a short road for records of :func:`log_fields`."""

    def __init__(self, service: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__.get(FIELDS)
        if fields is None:
            return super().format(record)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(), "service": self.service, "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key, value in get_contextvars().items():
            if value is not None:
                line[key] = value
        trace_id = current_trace_id()
        if trace_id is not None:
            line["trace_id"] = trace_id
        line.update(fields)
        return orjson.dumps(line, default=str).decode()


def JsonFormatter(service: str) -> logging.Formatter:  # noqa: N802 - a formatter, as the name it always had
    """The stdlib formatter that writes one JSON object per record for ``service``."""
    return _FlintFormatter(
        service,
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _of_service(service),
            _without_empty_correlation,
            structlog.processors.EventRenamer("message"),
            structlog.processors.format_exc_info,
            _rename("exception", "error"),
            _masked,
            structlog.processors.JSONRenderer(default=str),
        ],
    )


def _rename(old: str, new: str) -> Processor:
    def rename(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        if old in event:
            event[new] = event.pop(old)
        return event

    return rename


class QuietKafkaStartup(logging.Filter):
    """Writes the Kafka client's retriable errors of a normal start or rebalance below WARNING.

    aiokafka logs ``Group Coordinator Request failed: GroupCoordinatorNotAvailableError`` at
    ERROR while a fresh broker creates its offsets topic, and a rebalance as failed commits
    and heartbeats; it retries each by itself. A problem that lasts shows where it matters:
    ``/readyz`` (a stalled partition, Kafka degraded), consumer lag, ``make status``."""

    # (pattern, level written at): DEBUG for what every start says, INFO for rebalances.
    RULES = (
        (re.compile(r"Group Coordinator Request failed: .*(CoordinatorNotAvailable|NotCoordinator|"
                    r"CoordinatorLoadInProgress)"), logging.DEBUG),
        (re.compile(r"FindCoordinator Request failed: .*(CoordinatorNotAvailable|NotCoordinator|"
                    r"CoordinatorLoadInProgress)"), logging.DEBUG),
        (re.compile(r"Marking the coordinator dead"), logging.INFO),
        (re.compile(r"RebalanceInProgress|will rejoin|because it is rebalancing|re-joining group"), logging.INFO),
        (re.compile(r"(LeaderNotAvailable|UnknownTopicOrPartition|NotLeaderForPartition)"), logging.INFO),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(("aiokafka", "kafka")):
            return True
        message = record.getMessage()
        for pattern, level in self.RULES:
            if pattern.search(message):
                record.levelno, record.levelname = level, logging.getLevelName(level)
                return logging.getLogger().isEnabledFor(level)
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Every logger of the process writes JSON lines to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(QuietKafkaStartup())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "faststream"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
