"""Idempotent Kafka consumption: inbox, bounded retries, dead letters, offsets after commit.

For each message the consumer opens one database transaction, records the message in the
inbox (a redelivered message finds its row and does nothing), runs the handler on that same
connection and commits. Only then is the Kafka offset committed. A message that cannot be
processed goes, after bounded retries, to ``<topic>.dlq.<service>`` with the reason and the
original headers: written through the outbox in the same transaction as its inbox row, so
a dead letter is neither lost nor written twice. The consumer then moves on.

Infrastructure failures (database unreachable) are not the message's fault: the consumer
waits and retries without dead-lettering, so an outage never empties a topic into the DLQ.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError

from flint_chassis import outbox
from flint_chassis.errors import PermanentError, RetryLater
from flint_chassis.logs import correlation
from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import dead_letter_topic

log = logging.getLogger("flint.consumer")

Handler = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]
DeadLetterHook = Callable[[asyncpg.Connection, EventEnvelope, str], Awaitable[None]]

_INFRA_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                 asyncpg.TooManyConnectionsError, asyncio.TimeoutError)
# A message seen before is a duplicate, unless it was dead-lettered and an operator replays
# it (header flint-replay-of): then it gets another chance.
_CLAIM_INBOX = """
INSERT INTO flint_inbox (consumer, message_id, topic, partition, "offset", outcome)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (consumer, message_id) DO UPDATE
   SET topic = EXCLUDED.topic, partition = EXCLUDED.partition, "offset" = EXCLUDED."offset",
       outcome = EXCLUDED.outcome, processed_at = now()
 WHERE $7 AND flint_inbox.outcome = 'dead_lettered'
   AND (flint_inbox.topic, flint_inbox.partition, flint_inbox."offset") <> (EXCLUDED.topic, EXCLUDED.partition, EXCLUDED."offset")
RETURNING 1
"""
REPLAY_HEADER = "flint-replay-of"


class Outcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass
class EventConsumer:
    """One consumer group on one or more topics, with one handler per event type or one for all.

    ``name`` is both the Kafka group id and the inbox's consumer name. ``on_dead_letter`` may
    record what happened (e.g. a timeline note) in the dead letter's transaction.
    """

    service: str
    name: str
    topics: tuple[str, ...]
    pool: asyncpg.Pool
    handler: Handler
    on_dead_letter: DeadLetterHook | None = None
    max_attempts: int = 5
    retry_backoff: float = 0.2
    infra_backoff_max: float = 5.0

    def register(self, broker: KafkaBroker) -> Any:
        """Attach a FastStream subscriber that acks (commits the offset) only after ``process``."""

        async def raw_body(message: StreamMessage[Any]) -> bytes:
            return message.body

        @broker.subscriber(
            *self.topics,
            group_id=self.name,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=raw_body,
            title=f"{self.name}:{','.join(self.topics)}",
        )
        async def on_message(body: bytes, message: KafkaMessage) -> None:
            try:
                await self.process(message.raw_message)
            except BaseException:
                await message.nack()  # seek back: the message is read again, nothing is skipped
                raise
            await message.ack()

        return on_message

    async def process(self, record: ConsumerRecord) -> Outcome:
        """Process one record to completion. Raises only when the consumer is shutting down."""
        try:
            event = EventEnvelope.from_bytes(record.value or b"")
        except ValidationError as error:
            reason = f"malformed event: {_first_error(error)}"
            return await self._with_infra_retry(lambda: self._dead_letter(record, None, reason, "malformed"))

        with correlation(event.correlation_id or event.id):
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await self._with_infra_retry(lambda: self._handle(record, event))
                except PermanentError as error:
                    return await self._with_infra_retry(
                        lambda: self._dead_letter(record, event, error.reason, error.code, attempt)
                    )
                except Exception as error:  # a bug or a conflict: retry, then dead-letter
                    if attempt >= self.max_attempts:
                        if isinstance(error, RetryLater):
                            reason, code = error.reason, error.code
                        else:
                            reason, code = f"{type(error).__name__}: {error}", "retries_exhausted"
                        log.error("dead-lettering %s after %d attempts: %s", event.id, attempt, reason)
                        return await self._with_infra_retry(
                            lambda: self._dead_letter(record, event, reason, code, attempt)
                        )
                    log.warning("attempt %d for %s failed: %s", attempt, event.id, error)
                    await asyncio.sleep(self.retry_backoff * 2 ** (attempt - 1))

    async def _handle(self, record: ConsumerRecord, event: EventEnvelope) -> Outcome:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self._claim(conn, record, event.id, Outcome.PROCESSED):
                return Outcome.DUPLICATE
            await self.handler(conn, event)
        return Outcome.PROCESSED

    async def _dead_letter(
        self, record: ConsumerRecord, event: EventEnvelope | None, reason: str, code: str, attempts: int = 1
    ) -> Outcome:
        # A malformed message has no event id: its position identifies it across redeliveries.
        message_id = event.id if event else f"{record.topic}:{record.partition}:{record.offset}"
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self._claim(conn, record, message_id, Outcome.DEAD_LETTERED):
                return Outcome.DUPLICATE
            if event is not None and self.on_dead_letter is not None:
                await self._run_dead_letter_hook(conn, event, reason)
            headers = [(k, v.decode(errors="replace")) for k, v in (record.headers or ())]
            headers += [
                ("flint-dlq-reason", reason[:2000]),
                ("flint-dlq-code", code),
                ("flint-dlq-consumer", self.name),
                ("flint-dlq-source-topic", record.topic),
                ("flint-dlq-source-partition", str(record.partition)),
                ("flint-dlq-source-offset", str(record.offset)),
                ("flint-dlq-attempts", str(attempts)),
                ("flint-dlq-failed-at", datetime.now(UTC).isoformat()),
            ]
            key = record.key.decode(errors="replace") if record.key is not None else None
            await outbox.enqueue_raw(
                conn, dead_letter_topic(record.topic, self.service),
                f"dlq:{self.name}:{message_id}:{record.topic}:{record.partition}:{record.offset}",
                key, record.value or b"", headers,
            )
        log.warning("dead-lettered %s from %s: %s", message_id, record.topic, reason)
        return Outcome.DEAD_LETTERED

    async def _run_dead_letter_hook(self, conn: asyncpg.Connection, event: EventEnvelope, reason: str) -> None:
        # The hook only annotates; if it fails, the dead letter itself must still be written.
        try:
            async with conn.transaction():
                await self.on_dead_letter(conn, event, reason)
        except _INFRA_ERRORS:
            raise
        except Exception:
            log.exception("dead-letter hook failed for %s", event.id)

    async def _claim(self, conn: asyncpg.Connection, record: ConsumerRecord, message_id: str, outcome: Outcome) -> bool:
        row = await conn.fetchval(
            _CLAIM_INBOX, self.name, message_id, record.topic, record.partition, record.offset, outcome.value,
            any(key == REPLAY_HEADER for key, _ in record.headers or ()),
        )
        return row is not None

    async def _with_infra_retry(self, step: Callable[[], Awaitable[Outcome]]) -> Outcome:
        delay = self.retry_backoff
        while True:
            try:
                return await step()
            except _INFRA_ERRORS as error:
                log.warning("database unavailable (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.infra_backoff_max)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "body"
    return f"{where}: {first.get('msg')}"
