"""The inbox: one row per (consumer, message) taken care of, written in the same transaction
as its effect, so a redelivered message finds its row and does nothing."""

from __future__ import annotations

from enum import Enum

import asyncpg

from flint_chassis.consumer.message import Message


class Outcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    PARKED = "parked"
    SKIPPED = "skipped"
    DROPPED = "dropped"  # not even a dead letter could be written: logged at ERROR and counted


# A message seen before is a duplicate, unless it was dead-lettered and an operator replays
# it (header flint-replay-of): then it gets another chance.
_CLAIM = """
INSERT INTO flint_inbox (consumer, message_id, topic, partition, "offset", outcome)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (consumer, message_id) DO UPDATE
   SET topic = EXCLUDED.topic, partition = EXCLUDED.partition, "offset" = EXCLUDED."offset",
       outcome = EXCLUDED.outcome, processed_at = now()
 WHERE $7 AND flint_inbox.outcome = 'dead_lettered'
   AND (flint_inbox.topic, flint_inbox.partition, flint_inbox."offset") <> (EXCLUDED.topic, EXCLUDED.partition, EXCLUDED."offset")
RETURNING 1
"""
_EARLIER = 'SELECT outcome, topic, partition, "offset" FROM flint_inbox WHERE consumer = $1 AND message_id = $2'


async def claim(conn: asyncpg.Connection, consumer: str, message_id: str, message: Message, outcome: Outcome) -> bool:
    """Record the message as taken care of; False when it was already (a duplicate)."""
    row = await conn.fetchval(_CLAIM, consumer, message_id, message.topic, message.partition, message.offset,
                              outcome.value, message.is_replay)
    return row is not None


async def earlier(conn: asyncpg.Connection, consumer: str, message_id: str) -> str:
    """How the first copy of a duplicate was taken care of, for the log."""
    row = await conn.fetchrow(_EARLIER, consumer, message_id)
    if row is None:
        return "unknown"
    return f"{row['outcome']} at {row['topic']}:{row['partition']}:{row['offset']}"
