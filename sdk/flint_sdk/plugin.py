"""A plugin's event consumer: its own Kafka topic, its handlers by event type.

    plugin = Plugin(APP_ID, KAFKA_PASSWORD, "127.0.0.1:19094", name="invoicer")

    @plugin.on("order.paid")
    async def paid(event: Event) -> None:
        print(event.data)              # the contract model of the type's data

    asyncio.run(plugin.run())

How it consumes, and why:

- **Its topic only.** Flint gives each app one topic, ``flint.app.<app_id>.v1``, on a
  listener of its own where the app logs in with SASL/SCRAM-SHA-512 as its app id; the
  broker's ACLs let it read that topic in consumer groups named ``<app_id>.<something>``.
  The group is ``<app_id>.<name>``: plugins with different names each get every event.
  A new group starts at the oldest event the topic holds.
- **In order per order.** Events are keyed by order id, so one order's events share a
  partition; the plugin handles one message at a time, so each order's events reach their
  handler in sequence order.
- **At least once, deduplicated.** An offset is committed only after the message's
  handler returned (or the message was skipped). A message whose commit was lost comes
  again; an event id already handled is skipped (:mod:`flint_sdk.dedup`).
- **A failing handler** is retried ``attempts`` times with exponential backoff and jitter.
  Then ``on_failure`` decides: ``"stop"`` (the default) leaves the offset uncommitted and
  ends :meth:`run` with :class:`HandlerFailed`, so the plugin resumes at that message once
  fixed; ``"skip"`` calls ``on_skip`` with the :class:`Failure` (record it somewhere: a
  table, a dead-letter file), commits and goes on. A message that is not a valid Flint
  event, or whose data does not fit its type's model, fails at once, without retries.
- Types without a handler are committed and ignored.

Built on FastStream's ``KafkaBroker`` (aiokafka) with ``SASLScram512`` security, consumer
only (the app may not write or create topics).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from faststream.security import SASLScram512

from flint_contracts import event_types
from flint_contracts.ids import is_id
from flint_contracts.topics import app_topic
from flint_sdk.dedup import DedupStore
from flint_sdk.dispatch import Dispatcher, Failure, FailurePolicy, Handler, HandlerFailed, Outcome, Record, SkipRecorder

log = logging.getLogger("flint_sdk.plugin")

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class Plugin:
    """One consumer group on the app's topic, dispatching events by type to handlers.

    ``password`` is the app's Kafka credential; ``bootstrap_servers`` the broker's plugin
    listener. ``use_ssl`` turns on TLS for listeners that have it.
    """

    def __init__(self, app_id: str, password: str, bootstrap_servers: str, *, name: str = "main",
                 attempts: int = 3, retry_backoff: float = 0.5, on_failure: FailurePolicy = "stop",
                 on_skip: SkipRecorder | None = None, dedup_store: DedupStore | None = None,
                 dedup_capacity: int = 10_000, use_ssl: bool = False, graceful_timeout: float = 15.0) -> None:
        if not is_id(app_id, "app"):
            raise ValueError(f"not an app id: {app_id!r}")
        if not _NAME.match(name):
            raise ValueError(f"a plugin name is 1 to 100 of A-Z a-z 0-9 . _ -, not {name!r}")
        self.app_id, self.name = app_id, name
        self._dispatcher = Dispatcher(attempts=attempts, retry_backoff=retry_backoff, on_failure=on_failure,
                                      on_skip=on_skip, dedup_store=dedup_store, dedup_capacity=dedup_capacity)
        self._broker = KafkaBroker(
            bootstrap_servers, security=SASLScram512(app_id, password, use_ssl=use_ssl),
            client_id=f"flint-sdk.{app_id}",
            consumer_only=True, allow_auto_create_topics=False, graceful_timeout=graceful_timeout,
            log_level=logging.DEBUG,
        )
        self._subscribe()
        self._done = asyncio.Event()
        self._stopping = asyncio.Event()
        self._started = False

    @property
    def topic(self) -> str:
        return app_topic(self.app_id)

    @property
    def group_id(self) -> str:
        """``<app_id>.<name>``: the broker lets the app use groups prefixed with its id."""
        return f"{self.app_id}.{self.name}"

    @property
    def failure(self) -> Failure | None:
        """The message that stopped the plugin, if one did."""
        return self._dispatcher.failure

    def on(self, *types: str) -> Callable[[Handler], Handler]:
        """Registers the decorated coroutine function as the handler of ``types``.

        Each type must be a registered Flint event type (a misspelt one raises here, not
        silently never fires) and have one handler.
        """
        for type_ in types:
            event_types.get(type_)

        def register(handler: Handler) -> Handler:
            if not inspect.iscoroutinefunction(handler):
                raise TypeError(f"{handler.__qualname__} must be an async function")
            for type_ in types:
                self._dispatcher.add(type_, handler)
            return handler

        return register

    # --- lifetime ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connects and starts consuming in the background."""
        self._stopping.clear()
        self._done.clear()
        self._dispatcher.failure = None
        try:
            await self._broker.start()
        except BaseException:
            # A broker that failed to connect (refused login, no listener) still holds the
            # consumer it made: close it, or it lingers unclosed until the process ends.
            await self._broker.stop()
            raise
        self._started = True

    async def wait(self) -> None:
        """Until :meth:`stop` is called or a message fails under ``on_failure="stop"``;
        raises :class:`HandlerFailed` in the second case."""
        await self._done.wait()
        if self.failure is not None:
            raise HandlerFailed(self.failure)

    async def stop(self) -> None:
        """Finishes the message in hand (up to ``graceful_timeout``), then disconnects."""
        self._stopping.set()
        self._done.set()
        if self._started:
            self._started = False
            await self._broker.stop()

    async def run(self) -> None:
        """Consume until stopped (or cancelled, as by Ctrl-C); see :meth:`wait`."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    async def __aenter__(self) -> Plugin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- consuming --------------------------------------------------------------------------------

    def _subscribe(self) -> None:
        async def raw_body(message: StreamMessage[Any]) -> bytes:
            return message.body

        @self._broker.subscriber(
            self.topic, group_id=self.group_id, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
            decoder=raw_body, title=f"{self.group_id}:{self.topic}",
        )
        async def on_message(body: bytes, message: KafkaMessage) -> None:
            if self._stopping.is_set():
                await message.nack()  # read again by the next run, never skipped
                return
            if await self._dispatch(message) is Outcome.STOPPED:
                await message.nack()
                self._done.set()
                # Hold this message until stop() so the consumer reads nothing after it.
                await self._stopping.wait()
                return
            await message.ack()

    async def _dispatch(self, message: KafkaMessage) -> Outcome:
        raw = message.raw_message
        record = Record(raw.topic, raw.partition, raw.offset, raw.key, raw.value)
        try:
            return await self._dispatcher.dispatch(record)
        except Exception as error:  # noqa: BLE001 - the dedup store failed: stop rather than lose track
            self._dispatcher.failure = Failure(record.topic, record.partition, record.offset, record.key,
                                               record.value, None, error, 0)
            log.error("stopping: %s", self._dispatcher.failure, exc_info=error)
            return Outcome.STOPPED


__all__ = ["Failure", "HandlerFailed", "Outcome", "Plugin"]
