"""``SubscriptionConsumer``: runs one subscription against the database, message by message.

For each message, in this order (docs/chassis.md, "What happens to a message"):

1. classify it before any handler runs: not an envelope, an invalid envelope, an
   unregistered type or data that does not fit its contract model is dead-lettered at once;
   a registered type without a handler here is acknowledged and skipped;
2. in one transaction, under the advisory lock of its aggregate (Kafka key, else subject):
   park it behind any parked message of that aggregate, or record it in the inbox (a
   duplicate stops here, logged) and run its handler;
3. judge a failure: dead letter at once (``PermanentError``, bad data, a bug), park
   (``RetryLater``, repeated conflicts), or wait in place while the database is unreachable;
4. only then acknowledge (commit) the Kafka offset: after every message once the consumer
   has caught up, every ``commit_every`` messages while it works through a backlog
   (:mod:`flint_chassis.consumer.commits`; the inbox stops what is read again).

Nothing rewinds forever: if even the dead letter cannot be written, the message's
coordinates are logged at ERROR, counted, and the consumer moves on. A re-driver task tries
parked messages when they are due, oldest first per aggregate.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from structlog.contextvars import get_contextvars
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from flint_chassis.consumer import dead_letter, inbox, parking
from flint_chassis.consumer.classify import Deliver, Refuse, Skip, classify
from flint_chassis.consumer.commits import CommitOnRevoke, CommitPacing
from flint_chassis.consumer.failures import Action, Verdict, database_unreachable, judge
from flint_chassis.consumer.inbox import Outcome
from flint_chassis.consumer.message import Message
from flint_chassis.consumer.observe import Handling, MessageObserver
from flint_chassis.consumer.options import ConsumerOptions
from flint_chassis.consumer.progress import PartitionProgress
from flint_chassis.consumer.subscription import ErrorRules, Subscription
from flint_chassis.logs import correlation
from flint_chassis.metrics import observe_dead_letter, observe_retry
from flint_contracts.envelope import EventEnvelope

log = logging.getLogger("flint.consumer")
T = TypeVar("T")
_REDRIVE_BATCH = 50


class SubscriptionConsumer:
    """A subscription bound to a pool: Kafka group and inbox name ``group``."""

    def __init__(self, subscription: Subscription, pool: asyncpg.Pool | None, *, service: str, group: str,
                 options: ConsumerOptions = ConsumerOptions(), errors: ErrorRules | None = None) -> None:
        self.subscription = subscription
        self.name = group
        self.topics = subscription.topics
        self.service = service
        self.options = options
        self._pool = pool
        self._errors = subscription.errors or errors
        self.progress = PartitionProgress()
        self.stats: Counter[str] = Counter()
        self.observer = MessageObserver(group)
        self.subscriber: Any = None
        self.commits = CommitPacing(options.commit_every, options.commit_interval)
        self._redriver: asyncio.Task[None] | None = None

    # --- running ----------------------------------------------------------------------------

    def register(self, broker: KafkaBroker) -> Any:
        """Attach a FastStream subscriber that commits the offset only after ``process``."""

        async def raw_body(message: StreamMessage[Any]) -> bytes:
            return message.body

        subscriber = broker.subscriber(
            *self.topics, group_id=self.name, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
            parser=_tolerant_parser, decoder=raw_body, title=f"{self.name}:{','.join(self.topics)}",
            max_workers=self.subscription.consumers,  # > 1: one consumer per worker, partitions shared out
            listener=CommitOnRevoke(self.commits, self.name),
        )

        @subscriber
        async def on_message(body: bytes, message: KafkaMessage) -> None:
            record = message.raw_message
            self.progress.started(record.topic, record.partition, record.offset)
            try:
                outcome = await self.process(Message.from_record(record))
            except BaseException:
                await message.nack()  # shutting down: seek back, so the message is read again
                raise
            if self.commits.due(message.consumer, record.topic, record.partition, record.offset):
                await message.ack()  # commits every message handed out so far, all taken care of
                self.commits.committed(message.consumer)
            self.progress.finished(record.topic, record.partition, record.offset)
            self.stats[outcome.value] += 1

        self.subscriber = subscriber
        return subscriber

    def start_redriver(self) -> None:
        self._redriver = asyncio.create_task(self._redrive_forever(), name=f"redrive-{self.name}")

    async def stop_redriver(self) -> None:
        if self._redriver is not None:
            self._redriver.cancel()
            await asyncio.gather(self._redriver, return_exceptions=True)
            self._redriver = None

    async def stalls(self) -> list[str]:
        """Partitions of this consumer that are stuck (for ``/readyz``)."""
        consumers = getattr(self.subscriber, "consumer_subgroup", None) or [getattr(self.subscriber, "consumer", None)]
        found = await self.progress.stalls(consumers, self.options.stall_seconds)
        return [f"{self.name}: {stall}" for stall in found]

    async def lag(self) -> dict[tuple[str, int], int]:
        """Messages waiting on each assigned partition, as ``{(topic, partition): count}``
        (for ``flint_consumer_lag``); empty before the consumer runs."""
        consumers = getattr(self.subscriber, "consumer_subgroup", None) or [getattr(self.subscriber, "consumer", None)]
        return {(tp.topic, tp.partition): lag for tp, lag in (await self.progress.lag(consumers)).items()}

    # --- one message ------------------------------------------------------------------------

    async def process(self, message: Message) -> Outcome:
        """Take care of one message for good. Raises only when cancelled."""
        with self.observer.handling(message) as handling:
            outcome = await self._process(message, handling)
            handling.outcome = outcome.value
            return outcome

    async def _process(self, message: Message, handling: Handling) -> Outcome:
        verdict = classify(message, self.subscription)
        handling.identify(verdict.event.envelope if isinstance(verdict, Deliver) else verdict.envelope)
        if isinstance(verdict, Skip):
            log.debug("%s: no handler for %s, skipping %s", self.name, verdict.envelope.type, verdict.envelope.id)
            return Outcome.SKIPPED
        if isinstance(verdict, Refuse):
            with correlation(_correlation_id(verdict.envelope)):
                return await self._dead_letter(message, verdict.envelope, verdict.reason, verdict.code, 1)
        with correlation(verdict.event.correlation_id):
            return await self._deliver(message, verdict)

    async def _deliver(self, message: Message, deliver: Deliver) -> Outcome:
        envelope = deliver.event.envelope
        aggregate = message.aggregate(envelope.subject)
        conflicts = 0
        while True:
            try:
                return await self._until_reachable(lambda: self._apply(message, deliver, aggregate))
            except Exception as error:
                verdict = judge(error, self._errors)
                if verdict.bug:
                    log.exception("%s: handler of %s failed on %s", self.name, envelope.type, envelope.id)
            if verdict.action is Action.CONFLICT and conflicts < self.options.conflict_retries:
                conflicts += 1
                observe_retry(self.name, message.topic, "conflict")
                log.info("%s: %s hit a conflict (%s); try %d", self.name, envelope.id, verdict.reason, conflicts + 1)
                await asyncio.sleep(self.options.retry_backoff * 2 ** (conflicts - 1) * random.uniform(0.5, 1.5))
                continue
            if verdict.action in (Action.CONFLICT, Action.PARK):
                return await self._park(message, envelope, aggregate, verdict)
            return await self._dead_letter(message, envelope, verdict.reason, verdict.code, conflicts + 1)

    async def _apply(self, message: Message, deliver: Deliver, aggregate: bytes) -> Outcome:
        event = deliver.event
        async with self._pool.acquire() as conn, conn.transaction():
            await parking.lock(conn, self.name, aggregate)
            ahead, claimed = await inbox.claim_unless_parked(conn, self.name, aggregate, event.id, message,
                                                             Outcome.PROCESSED)
            if ahead is not None:
                await parking.park(conn, self.name, aggregate, message, attempts=0, code="waiting",
                                   reason=f"waits behind parked message {ahead} of the same key", delay=0)
                log.info("%s: %s (%s) waits behind parked message %s of the same key", self.name, event.id,
                         event.type, ahead)
                return Outcome.PARKED
            if not claimed:
                log.info("%s: duplicate %s (%s) at %s ignored: already %s", self.name, event.id, event.type,
                         message.position, await inbox.earlier(conn, self.name, event.id))
                return Outcome.DUPLICATE
            await deliver.route.handler(conn, event)
        return Outcome.PROCESSED

    async def _park(self, message: Message, envelope: EventEnvelope, aggregate: bytes, verdict: Verdict) -> Outcome:
        delays = self.options.park_delays
        if not delays:
            return await self._dead_letter(message, envelope, verdict.reason, verdict.code, 1)

        async def park() -> None:
            async with self._pool.acquire() as conn, conn.transaction():
                await parking.lock(conn, self.name, aggregate)
                await parking.park(conn, self.name, aggregate, message, attempts=1, delay=delays[0],
                                   reason=dead_letter.printable(verdict.reason),
                                   code=dead_letter.printable(verdict.code, 100))

        try:
            await self._until_reachable(park)
        except Exception:
            log.exception("%s: cannot park %s; dead-lettering it instead", self.name, message.position)
            return await self._dead_letter(message, envelope, verdict.reason, verdict.code, 1)
        log.info("%s: parked %s (%s): %s; next try in %.1fs", self.name, envelope.id, envelope.type,
                 verdict.reason, delays[0])
        return Outcome.PARKED

    async def _dead_letter(self, message: Message, envelope: EventEnvelope | None, reason: str, code: str,
                           attempts: int) -> Outcome:
        async def write() -> bool:
            async with self._pool.acquire() as conn, conn.transaction():
                return await self._write_dead_letter(conn, message, envelope, reason, code, attempts)

        try:
            written = await self._until_reachable(write)
        except Exception:
            return self._dropped(message, reason)
        return self._dead_lettered(written, message, envelope, reason, code)

    async def _write_dead_letter(self, conn: asyncpg.Connection, message: Message, envelope: EventEnvelope | None,
                                 reason: str, code: str, attempts: int) -> bool:
        return await dead_letter.write(conn, service=self.service, consumer=self.name, message=message,
                                       envelope=envelope, reason=reason, code=code, attempts=attempts,
                                       hook=self.subscription.on_dead_letter)

    def _dead_lettered(self, written: bool, message: Message, envelope: EventEnvelope | None, reason: str,
                       code: str) -> Outcome:
        what = envelope.id if envelope is not None else message.position
        if not written:
            log.info("%s: duplicate %s ignored: already dead-lettered", self.name, what)
            return Outcome.DUPLICATE
        observe_dead_letter(self.name, message.topic, code)
        log.warning("%s: dead-lettered %s from %s (%s): %s", self.name, what, message.position, code, reason)
        return Outcome.DEAD_LETTERED

    def _dropped(self, message: Message, reason: str) -> Outcome:
        log.error("%s: cannot write the dead letter of %s (offset committed, message dropped); it failed "
                  "because: %s", self.name, message.position, reason, exc_info=True)
        self.stats["dead_letter_failures"] += 1
        return Outcome.DROPPED

    # --- parked messages --------------------------------------------------------------------

    async def _redrive_forever(self) -> None:
        while True:
            try:
                done = await self.redrive_due()
            except Exception as error:
                if database_unreachable(error):
                    log.warning("%s: cannot look at parked messages: %s", self.name, error)
                else:
                    log.exception("%s: re-driving parked messages failed", self.name)
                done = 0
            if not done:
                await asyncio.sleep(self.options.redrive_interval)

    async def redrive_due(self) -> int:
        """Try each aggregate's oldest parked message that is due; returns how many were tried."""
        heads = await parking.due_heads(self._pool, self.name, _REDRIVE_BATCH)
        tried = 0
        for head in heads:
            tried += await self._redrive(head["id"], bytes(head["aggregate"]))
        return tried

    async def _redrive(self, parked_id: int, aggregate: bytes) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await parking.try_lock(conn, self.name, aggregate):
                return False  # the consumer or another replica is on this aggregate right now
            row = await parking.take(conn, parked_id)
            if row is None or await parking.waiting(conn, self.name, aggregate) != parked_id:
                return False
            message = Message.from_parked(row)
            observe_retry(self.name, message.topic, "parked")
            with self.observer.handling(message, first_try=False) as handling:
                handling.outcome = await self._redrive_one(conn, parked_id, row, message, handling)
        return True

    async def _redrive_one(self, conn: asyncpg.Connection, parked_id: int, row: Any, message: Message,
                           handling: Handling) -> str:
        verdict = classify(message, self.subscription)
        handling.identify(verdict.event.envelope if isinstance(verdict, Deliver) else verdict.envelope)
        if isinstance(verdict, Skip):
            await parking.delete(conn, parked_id)
            return Outcome.SKIPPED.value
        if isinstance(verdict, Refuse):
            with correlation(_correlation_id(verdict.envelope)):
                await self._give_up(conn, row, message, verdict.envelope, verdict.reason, verdict.code)
            return Outcome.DEAD_LETTERED.value
        with correlation(verdict.event.correlation_id):
            return await self._retry_parked(conn, row, message, verdict)

    async def _retry_parked(self, conn: asyncpg.Connection, row: Any, message: Message, deliver: Deliver) -> str:
        """Try a parked message again; returns what came of it (an ``Outcome`` value)."""
        event = deliver.event
        try:
            async with conn.transaction():  # a savepoint: a failure undoes only the handler's work
                if await inbox.claim(conn, self.name, event.id, message, Outcome.PROCESSED):
                    await deliver.route.handler(conn, event)
                    outcome = Outcome.PROCESSED
                else:
                    log.info("%s: parked duplicate %s ignored: already %s", self.name, event.id,
                             await inbox.earlier(conn, self.name, event.id))
                    outcome = Outcome.DUPLICATE
        except Exception as error:
            verdict = judge(error, self._errors)
            if verdict.action is Action.WAIT:
                raise  # the database went away: the whole try is undone and made again later
            if verdict.bug:
                log.exception("%s: handler of %s failed on parked %s", self.name, event.type, event.id)
            return await self._after_failed_try(conn, row, message, event.envelope, verdict)
        await parking.delete(conn, row["id"])
        log.info("%s: parked %s (%s) applied on try %d", self.name, event.id, event.type, row["attempts"] + 1)
        return outcome.value

    async def _after_failed_try(self, conn: asyncpg.Connection, row: Any, message: Message,
                                envelope: EventEnvelope, verdict: Verdict) -> str:
        attempts, delays = row["attempts"] + 1, self.options.park_delays
        if verdict.action is Action.DEAD or attempts > len(delays):
            await self._give_up(conn, row, message, envelope, verdict.reason, verdict.code, attempts)
            return Outcome.DEAD_LETTERED.value
        await parking.reschedule(conn, row["id"], attempts=attempts, reason=dead_letter.printable(verdict.reason),
                                 code=dead_letter.printable(verdict.code, 100), delay=delays[attempts - 1])
        log.info("%s: parked %s still fails (%s); try %d in %.1fs", self.name, envelope.id, verdict.reason,
                 attempts + 1, delays[attempts - 1])
        return Outcome.PARKED.value

    async def _give_up(self, conn: asyncpg.Connection, row: Any, message: Message, envelope: EventEnvelope | None,
                       reason: str, code: str, attempts: int | None = None) -> None:
        """Dead-letter a parked message and remove it: the next one of its aggregate goes on."""
        attempts = attempts or max(row["attempts"], 1)
        try:
            async with conn.transaction():
                written = await self._write_dead_letter(conn, message, envelope, reason, code, attempts)
        except Exception as error:
            if database_unreachable(error):
                raise
            self._dropped(message, reason)
        else:
            self._dead_lettered(written, message, envelope, reason, code)
        await parking.delete(conn, row["id"])

    # --- waiting for the database -----------------------------------------------------------

    async def _until_reachable(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run ``step``, again and again while the database is unreachable (backoff + jitter)."""
        backoff = self.options.retry_backoff
        retrying = AsyncRetrying(
            retry=retry_if_exception(database_unreachable), reraise=True, before_sleep=self._log_unreachable,
            wait=wait_exponential_jitter(multiplier=backoff, max=self.options.infra_backoff_max, jitter=backoff),
        )
        async for attempt in retrying:
            with attempt:
                return await step()
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _log_unreachable(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        observe_retry(self.name, _topic_in_hand(), "database_unreachable")
        log.warning("%s: database unreachable (%s); try %d in %.1fs", self.name, error, state.attempt_number + 1,
                    state.upcoming_sleep)


async def _tolerant_parser(record: Any, parse: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser, fed header values it can decode. Its own decodes every header
    value as UTF-8 and fails before the handler runs on one that is not, so such a message
    would never reach the dead-letter topic. The handler still gets the original record."""
    readable = copy.copy(record)
    readable.headers = [(name, (value or b"").decode("utf-8", "replace").encode()) for name, value in
                        record.headers or ()]
    message = await parse(readable)
    message.raw_message = record
    return message


def _topic_in_hand() -> str:
    """The topic of the message being handled (bound by the observer), for a retry's label."""
    return get_contextvars().get("topic", "")


def _correlation_id(envelope: EventEnvelope | None) -> str | None:
    return (envelope.correlation_id or envelope.id) if envelope is not None else None
