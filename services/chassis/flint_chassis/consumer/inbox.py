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
_INSERT = 'INSERT INTO flint_inbox (consumer, message_id, topic, partition, "offset", outcome)'
_UNLESS_SEEN = """
ON CONFLICT (consumer, message_id) DO UPDATE
   SET topic = EXCLUDED.topic, partition = EXCLUDED.partition, "offset" = EXCLUDED."offset",
       outcome = EXCLUDED.outcome, processed_at = now()
 WHERE $7 AND flint_inbox.outcome = 'dead_lettered'
   AND (flint_inbox.topic, flint_inbox.partition, flint_inbox."offset") <> (EXCLUDED.topic, EXCLUDED.partition, EXCLUDED."offset")
RETURNING 1
"""
_CLAIM = f"{_INSERT} VALUES ($1, $2, $3, $4, $5, $6) {_UNLESS_SEEN}"
# The same claim, made only if no message of the aggregate ($8) is parked: one round trip for
# both questions. The caller holds the aggregate's lock, taken by an earlier statement, so this
# one's snapshot sees every parked row committed before the lock was granted.
_CLAIM_UNLESS_PARKED = f"""
WITH ahead AS (
    SELECT id FROM flint_parked WHERE consumer = $1 AND aggregate = $8 ORDER BY id LIMIT 1
),
claimed AS (
    {_INSERT} SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM ahead) {_UNLESS_SEEN}
)
SELECT (SELECT id FROM ahead) AS ahead, EXISTS (SELECT 1 FROM claimed) AS claimed
"""
_EARLIER = 'SELECT outcome, topic, partition, "offset" FROM flint_inbox WHERE consumer = $1 AND message_id = $2'


async def claim(conn: asyncpg.Connection, consumer: str, message_id: str, message: Message, outcome: Outcome) -> bool:
    """Record the message as taken care of; False when it was already (a duplicate)."""
    row = await conn.fetchval(_CLAIM, consumer, message_id, message.topic, message.partition, message.offset,
                              outcome.value, message.is_replay)
    return row is not None


async def claim_unless_parked(conn: asyncpg.Connection, consumer: str, aggregate: bytes, message_id: str,
                              message: Message, outcome: Outcome) -> tuple[int | None, bool]:
    """``(ahead, claimed)``: the id of the aggregate's oldest parked message (then nothing is
    claimed), else whether the message was claimed (False: a duplicate). The caller holds
    the aggregate's lock (``parking.lock``)."""
    row = await conn.fetchrow(_CLAIM_UNLESS_PARKED, consumer, message_id, message.topic, message.partition,
                              message.offset, outcome.value, message.is_replay, aggregate)
    return row["ahead"], row["claimed"]


async def earlier(conn: asyncpg.Connection, consumer: str, message_id: str) -> str:
    """How the first copy of a duplicate was taken care of, for the log."""
    row = await conn.fetchrow(_EARLIER, consumer, message_id)
    if row is None:
        return "unknown"
    return f"{row['outcome']} at {row['topic']}:{row['partition']}:{row['offset']}"
