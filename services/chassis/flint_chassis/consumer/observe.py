"""What each consumed message leaves behind: a span, log context, one line and its metrics.

While a message is handled, every log line carries its ``topic``, ``partition``, ``offset``
and, once its envelope is read, ``event_id`` and ``event_type``; the trace of the producer
(the ``traceparent`` header the outbox relay sent) is continued by a CONSUMER span, or only
carried through while tracing is off, so whatever the handler writes to its outbox stays in
the same trace. When it is done, one line says what happened::

    {"message": "processed order.created evt_… from flint.orders.events.v1:2:1841", "outcome": "processed",
     "duration_ms": 3.1, "topic": …, "partition": 2, "offset": 1841, "event_id": …, "event_type": …}

and ``flint_consumer_messages_total`` / ``flint_consumer_handle_duration_seconds`` count it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from opentelemetry.trace import SpanKind
from structlog.contextvars import bind_contextvars, reset_contextvars

from flint_chassis import tracing
from flint_chassis.consumer.message import Message
from flint_chassis.logs import bind, log_fields
from flint_chassis.metrics import ConsumerObservations
from flint_contracts.envelope import EventEnvelope

log = logging.getLogger("flint.consumer")


class Handling:
    """One message in hand: its envelope once known, and what came of it."""

    def __init__(self, span: Any) -> None:
        self.span = span
        self.outcome: str | None = None
        self.event_type: str | None = None
        self.event_id: str | None = None
        self._tokens: dict[str, Any] = {}

    def identify(self, envelope: EventEnvelope | None) -> None:
        """Name the event on every later log line and on the span."""
        if envelope is None:
            return
        self.event_id, self.event_type = envelope.id, envelope.type
        self._tokens = bind_contextvars(event_id=envelope.id, event_type=envelope.type,
                                        correlation_id=envelope.correlation_id or envelope.id)
        if self.span is not None:
            self.span.set_attribute("messaging.message.id", envelope.id)
            self.span.set_attribute("flint.event.type", envelope.type)

    def forget(self) -> None:
        if self._tokens:
            reset_contextvars(**self._tokens)


class MessageObserver:
    """The observations of one consumer (its group name)."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.observations = ConsumerObservations(consumer)

    @contextlib.contextmanager
    def handling(self, message: Message, *, first_try: bool = True) -> Iterator[Handling]:
        """Around taking care of ``message``; set ``Handling.outcome`` before leaving. A parked
        message tried again (``first_try=False``) is logged but counted as a retry elsewhere."""
        started = time.perf_counter()
        attributes = {"messaging.system": "kafka", "messaging.operation.type": "process",
                      "messaging.destination.name": message.topic,
                      "messaging.destination.partition.id": str(message.partition),
                      "messaging.kafka.offset": message.offset, "messaging.consumer.group.name": self.consumer}
        with tracing.span(f"process {message.topic}", kind=SpanKind.CONSUMER,
                          parent=tracing.traceparent_of(message.headers), attributes=attributes) as span, \
                bind(topic=message.topic, partition=message.partition, offset=message.offset):
            handling = Handling(span)
            try:
                yield handling
            finally:
                seconds = time.perf_counter() - started
                if handling.outcome is not None:
                    if first_try:
                        self.observations.observe(message.topic, handling.outcome, seconds)
                    self._log(message, handling, seconds, first_try)
                handling.forget()

    @staticmethod
    def _log(message: Message, handling: Handling, seconds: float, first_try: bool) -> None:
        level = logging.DEBUG if handling.outcome == "skipped" else logging.INFO
        what = f"{handling.event_type} {handling.event_id}" if handling.event_id else "a message"
        again = "" if first_try else " (parked, tried again)"
        log_fields(log, level, f"{handling.outcome} {what} from {message.position}{again}",
                   outcome=handling.outcome, duration_ms=round(seconds * 1000, 3))
