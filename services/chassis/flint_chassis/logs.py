"""JSON logs, one object per line, with the service name and the context of the work at hand.

Built on structlog: its ``ProcessorFormatter`` renders every stdlib record (Flint's own and
those of uvicorn, aiokafka, asyncpg) and structlog's own loggers alike, and its contextvars
carry the correlation id (and anything else bound with :func:`bind`) into every line logged
while a request or message is handled. Values under keys that look secret are masked, and
so are bearer tokens and ``secret=...`` pairs inside messages and tracebacks.

A line: ``{"time", "level", "service", "logger", "message", "correlation_id"?, "error"?, ...}``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars, get_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

_SECRET_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|((?:secret|password|token|code_verifier|client_secret|authorization)"
    r"[\"']?\s*[=:]\s*[\"']?(?:(?:bearer|basic)\s+)?)[^\s&\"',]+"
)
_SECRET_KEY = re.compile(r"(?i)secret|password|token|code_verifier|authorization|api_key")

# What every line gets, whether it came from a stdlib logger or a structlog one.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
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


def JsonFormatter(service: str) -> logging.Formatter:  # noqa: N802 - a formatter, as the name it always had
    """The stdlib formatter that writes one JSON object per record for ``service``."""
    return structlog.stdlib.ProcessorFormatter(
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


def configure_logging(service: str, level: str = "INFO") -> None:
    """Every logger of the process writes JSON lines to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
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
