"""Declaring what a service consumes: ``Subscription`` and its ``on(type)`` handlers.

    payments = Subscription("payments", PAYMENTS_EVENTS)

    @payments.on(types.PAYMENT_CAPTURED)
    async def captured(conn: asyncpg.Connection, event: Event[PaymentCaptured]) -> None:
        ...

A subscription is one consumer group (and inbox name) on one or more topics. Each handler is
keyed by a type from the contracts' registry; its data model comes from the contracts too,
so a handler only ever sees an event whose envelope and data are valid. The service's
runtime binds subscriptions to its pool and settings (``flint_chassis.runtime``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from flint_chassis.consumer.event import Event
from flint_contracts import event_types, topics
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import NoDataModelError, data_model

Handler = Callable[[asyncpg.Connection, Event[Any]], Awaitable[None]]
DeadLetterHook = Callable[[asyncpg.Connection, EventEnvelope, str], Awaitable[None]]
ErrorRules = Callable[[Exception], Exception | None]
"""Maps a service's own exception to ``PermanentError`` / ``RetryLater`` / ``Conflict`` (or
None to leave it alone), so handlers never wrap their calls (see docs/chassis.md)."""


@dataclass(frozen=True)
class Route:
    """How one event type is handled: its data model (None: the data stays a dict) and handler."""

    type: str
    model: type | None
    handler: Handler


class Subscription:
    """One consumer group on ``topics`` with a handler per event type.

    ``on_dead_letter`` may record why a message was refused (e.g. a note on the order's
    timeline), in the dead letter's transaction. ``errors`` classifies the service's own
    exceptions (the runtime's rules apply when it is None). ``consumers`` > 1 (one topic
    only) runs that many Kafka consumers of the group in the process: the topic's partitions
    are shared among them and handled side by side, each partition still in order.
    """

    def __init__(self, name: str, *topic_names: str, on_dead_letter: DeadLetterHook | None = None,
                 errors: ErrorRules | None = None, consumers: int = 1) -> None:
        if not topic_names:
            raise ValueError(f"subscription {name!r} needs at least one topic")
        if consumers < 1 or (consumers > 1 and len(topic_names) != 1):
            raise ValueError(f"subscription {name!r}: several consumers read one topic only (and at least one)")
        self.name = name
        self.topics = tuple(topic_names)
        self.consumers = consumers
        self.on_dead_letter = on_dead_letter
        self.errors = errors
        self.routes: dict[str, Route] = {}

    def on(self, *types: str) -> Callable[[Handler], Handler]:
        """Register the decorated handler for each of ``types`` (contract type constants)."""

        def register(handler: Handler) -> Handler:
            for name in types:
                self._add(name, handler)
            return handler

        return register

    def _add(self, name: str, handler: Handler) -> None:
        registered = event_types.get(name)  # an unregistered type fails here, at import time
        # A type routed to a subscription that never reads its topic is a wiring mistake
        # (topics of the registry only: tests read private copies of topics).
        if registered.topic not in self.topics and all(t in topics.REGISTRY for t in self.topics):
            raise ValueError(f"{name} travels on {registered.topic}, which subscription {self.name!r} "
                             f"does not read ({', '.join(self.topics)})")
        if name in self.routes:
            raise ValueError(f"subscription {self.name!r} already handles {name}")
        try:
            model: type | None = data_model(name)
        except NoDataModelError:
            model = None
        self.routes[name] = Route(name, model, handler)

    def __repr__(self) -> str:
        return f"Subscription({self.name!r}, {', '.join(self.topics)}: {', '.join(self.routes)})"
