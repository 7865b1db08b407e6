"""What a plugin does with one message of its topic: read it, skip what it has seen, call
the handler of its type, retry a failing handler, and give up as the developer chose.

Kafka-free on purpose: :class:`~flint_sdk.plugin.Plugin` feeds it records and commits
offsets by what it answers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential_jitter

from flint_contracts.envelope import EventEnvelope
from flint_sdk.dedup import DedupStore, RecentIds
from flint_sdk.events import Event, typed_data

log = logging.getLogger("flint_sdk.plugin")

Handler = Callable[[Event], Awaitable[None]]
FailurePolicy = Literal["stop", "skip"]


class Outcome(str, Enum):
    """What became of one message; all but ``STOPPED`` commit its offset."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # no handler for its type
    SKIPPED = "skipped"  # failed, and the policy is "skip"
    STOPPED = "stopped"  # failed, and the policy is "stop"


@dataclass(frozen=True)
class Failure:
    """A message the plugin could not handle: where it is, what it held, and why it failed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    event: Event | None
    error: BaseException
    attempts: int

    def __str__(self) -> str:
        what = f"{self.event.type} {self.event.id}" if self.event else "an unreadable message"
        return (f"{what} at {self.topic}[{self.partition}]@{self.offset} failed after {self.attempts} "
                f"attempt(s): {type(self.error).__name__}: {self.error}")


class HandlerFailed(Exception):
    """Raised by ``Plugin.run()`` when a message failed and the policy is ``"stop"``. Its offset
    was not committed: the plugin starts again from it."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass(frozen=True)
class Record:
    """The parts of a Kafka record the dispatcher reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


SkipRecorder = Callable[[Failure], Any]


class Dispatcher:
    """Handlers by event type, deduplication and the failure policy."""

    def __init__(self, *, attempts: int = 3, retry_backoff: float = 0.5, on_failure: FailurePolicy = "stop",
                 on_skip: SkipRecorder | None = None, dedup_store: DedupStore | None = None,
                 dedup_capacity: int = 10_000) -> None:
        if on_failure not in ("stop", "skip"):
            raise ValueError('on_failure is "stop" or "skip"')
        self.handlers: dict[str, Handler] = {}
        self.attempts, self.retry_backoff = max(1, attempts), retry_backoff
        self.on_failure, self.on_skip = on_failure, on_skip
        self._recent = RecentIds(dedup_capacity)
        self._store = dedup_store
        self.failure: Failure | None = None

    def add(self, type_: str, handler: Handler) -> None:
        if type_ in self.handlers:
            raise ValueError(f"{type_} already has a handler ({self.handlers[type_].__qualname__})")
        self.handlers[type_] = handler

    async def dispatch(self, record: Record) -> Outcome:
        """Handle one record to the end; never raises for what the record holds."""
        try:
            envelope = EventEnvelope.from_bytes(record.value or b"")
        except ValidationError as error:
            return await self._give_up(record, None, error, attempts=0)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return Outcome.IGNORED
        if await self._seen(envelope.id):
            log.info("event %s (%s) was handled before: skipped", envelope.id, envelope.type)
            return Outcome.DUPLICATE
        try:
            event = Event(envelope, typed_data(envelope))
        except ValidationError as error:  # data that does not fit its contract never will
            return await self._give_up(record, Event(envelope, envelope.data), error, attempts=0)
        try:
            await self._call(handler, event)
        except Exception as error:  # noqa: BLE001 - a handler may fail in any way; the policy decides
            return await self._give_up(record, event, error, attempts=self.attempts)
        await self._remember(envelope.id)
        return Outcome.HANDLED

    async def _call(self, handler: Handler, event: Event) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts), reraise=True, before_sleep=_log_retry(event),
            wait=wait_exponential_jitter(multiplier=self.retry_backoff, jitter=self.retry_backoff,
                                         max=30 * self.retry_backoff),
        )
        async for attempt in retrying:
            with attempt:
                await handler(event)

    async def _give_up(self, record: Record, event: Event | None, error: BaseException, attempts: int) -> Outcome:
        failure = Failure(record.topic, record.partition, record.offset, record.key, record.value, event, error,
                          attempts)
        if self.on_failure == "stop":
            log.error("stopping: %s", failure, exc_info=error)
            self.failure = failure
            return Outcome.STOPPED
        log.error("skipping: %s", failure, exc_info=error)
        if self.on_skip is not None:
            try:
                result = self.on_skip(failure)
                if inspect.isawaitable(result):
                    await result
            except Exception as recording_error:  # noqa: BLE001 - unrecorded, it must not be skipped
                log.error("could not record the skipped message; stopping instead", exc_info=recording_error)
                self.failure = failure
                return Outcome.STOPPED
        if event is not None:
            await self._remember(event.id)
        return Outcome.SKIPPED

    async def _seen(self, event_id: str) -> bool:
        if event_id in self._recent:
            return True
        if self._store is not None and await self._store.seen(event_id):
            self._recent.add(event_id)
            return True
        return False

    async def _remember(self, event_id: str) -> None:
        if self._store is not None:
            await self._store.remember(event_id)
        self._recent.add(event_id)


def _log_retry(event: Event) -> Callable[[RetryCallState], None]:
    def log_it(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("handler of %s %s failed (attempt %d): %s; retrying in %.2fs", event.type, event.id,
                    state.attempt_number, error, wait)

    return log_it
