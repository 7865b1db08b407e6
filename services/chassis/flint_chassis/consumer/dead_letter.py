"""Writing a dead letter: the original key, value and headers byte for byte, plus why.

It goes to ``<topic>.dlq.<service>`` through the outbox, in the same transaction as its inbox
row, so it is neither lost nor written twice. Everything stored is built to store whatever
the message holds: key and headers as bytes (``flint_chassis.wire``), the outbox id from
safe parts only (``dlq:<consumer>:<topic>:<partition>:<offset>``), the reason stripped of
what text columns refuse and cut to ``MAX_REASON_LENGTH``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg

from flint_chassis import outbox
from flint_chassis.consumer import inbox
from flint_chassis.consumer.failures import database_unreachable
from flint_chassis.consumer.inbox import Outcome
from flint_chassis.consumer.message import Message
from flint_chassis.consumer.subscription import DeadLetterHook
from flint_contracts.envelope import EventEnvelope
from flint_contracts.text import text_problem
from flint_contracts.topics import dead_letter_topic

log = logging.getLogger("flint.consumer")

MAX_REASON_LENGTH = 1000
HEADER_PREFIX = "flint-dlq-"


def printable(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """``text`` cut to ``limit`` characters, each one PostgreSQL and JSON refuse replaced by U+FFFD."""
    return "".join(c if text_problem(c) is None else "\ufffd" for c in text[:limit])


def dead_letter_id(consumer: str, message: Message) -> str:
    return f"dlq:{consumer}:{message.position}"


async def write(
    conn: asyncpg.Connection,
    *,
    service: str,
    consumer: str,
    message: Message,
    envelope: EventEnvelope | None,
    reason: str,
    code: str,
    attempts: int,
    hook: DeadLetterHook | None = None,
) -> bool:
    """Dead-letter ``message`` inside the caller's transaction; False if it was already."""
    message_id = envelope.id if envelope is not None else message.position
    if not await inbox.claim(conn, consumer, message_id, message, Outcome.DEAD_LETTERED):
        return False
    reason, code = printable(reason), printable(code, 100)
    if envelope is not None and hook is not None:
        await _run_hook(conn, hook, envelope, reason)
    headers = [*message.headers, *_why(consumer, message, reason, code, attempts)]
    await outbox.enqueue_raw(conn, dead_letter_topic(message.topic, service), dead_letter_id(consumer, message),
                             message.key, message.value, headers)
    return True


def _why(consumer: str, message: Message, reason: str, code: str, attempts: int) -> list[tuple[str, bytes]]:
    values = {
        "reason": reason, "code": code, "consumer": consumer, "source-topic": message.topic,
        "source-partition": str(message.partition), "source-offset": str(message.offset),
        "attempts": str(attempts), "failed-at": datetime.now(UTC).isoformat(),
    }
    return [(HEADER_PREFIX + name, value.encode()) for name, value in values.items()]


async def _run_hook(conn: asyncpg.Connection, hook: DeadLetterHook, envelope: EventEnvelope, reason: str) -> None:
    # The hook only annotates; if it fails, the dead letter itself must still be written.
    try:
        async with conn.transaction():
            await hook(conn, envelope, reason)
    except Exception as error:
        if database_unreachable(error):
            raise
        log.exception("dead-letter hook failed for %s", envelope.id)
