"""SQL of ``flint_parked``: messages that wait, kept byte for byte, in per-aggregate order.

Every step that reads or changes an aggregate's parked messages (the consumer deciding
whether a new message must wait, the re-driver trying one) holds a transaction-scoped
advisory lock on ``(consumer, aggregate)``, so they never interleave, whatever replica runs
them.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from flint_chassis.consumer.message import Message
from flint_chassis.wire import encode_headers

_LOCK_KEY = "hashtextextended('flint_parked:' || $1::text || ':' || encode($2::bytea, 'hex'), 0)"
_LOCK = f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"
_TRY_LOCK = f"SELECT pg_try_advisory_xact_lock({_LOCK_KEY})"
_ANY_PARKED = "SELECT id FROM flint_parked WHERE consumer = $1 AND aggregate = $2 ORDER BY id LIMIT 1"
_PARK = """
INSERT INTO flint_parked (consumer, aggregate, topic, partition, "offset", key, value, headers, attempts,
                          reason, code, due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, now() + $12::interval)
ON CONFLICT (consumer, topic, partition, "offset") DO NOTHING
"""
# The oldest parked message of each aggregate, when it is due. Later ones wait behind it.
_DUE_HEADS = """
SELECT id, aggregate FROM (
    SELECT DISTINCT ON (aggregate) id, aggregate, due_at
      FROM flint_parked WHERE consumer = $1 ORDER BY aggregate, id
) AS heads
WHERE due_at <= now()
ORDER BY due_at
LIMIT $2
"""
_TAKE = "SELECT * FROM flint_parked WHERE id = $1 AND due_at <= now() FOR UPDATE SKIP LOCKED"
_DELETE = "DELETE FROM flint_parked WHERE id = $1"
_RESCHEDULE = """
UPDATE flint_parked SET attempts = $2, reason = $3, code = $4, due_at = now() + $5::interval WHERE id = $1
"""
_COUNT = "SELECT count(*) FROM flint_parked WHERE consumer = $1"


async def lock(conn: asyncpg.Connection, consumer: str, aggregate: bytes) -> None:
    await conn.execute(_LOCK, consumer, aggregate)


async def try_lock(conn: asyncpg.Connection, consumer: str, aggregate: bytes) -> bool:
    return await conn.fetchval(_TRY_LOCK, consumer, aggregate)


async def waiting(conn: asyncpg.Connection, consumer: str, aggregate: bytes) -> int | None:
    """The id of the aggregate's oldest parked message, if any (under the aggregate's lock)."""
    return await conn.fetchval(_ANY_PARKED, consumer, aggregate)


async def park(conn: asyncpg.Connection, consumer: str, aggregate: bytes, message: Message, *, attempts: int,
               reason: str, code: str, delay: float) -> None:
    await conn.execute(_PARK, consumer, aggregate, message.topic, message.partition, message.offset, message.key,
                       message.value, encode_headers(message.headers), attempts, reason, code,
                       timedelta(seconds=delay))


async def due_heads(pool: asyncpg.Pool, consumer: str, limit: int) -> list[asyncpg.Record]:
    return await pool.fetch(_DUE_HEADS, consumer, limit)


async def take(conn: asyncpg.Connection, parked_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(_TAKE, parked_id)


async def delete(conn: asyncpg.Connection, parked_id: int) -> None:
    await conn.execute(_DELETE, parked_id)


async def reschedule(conn: asyncpg.Connection, parked_id: int, *, attempts: int, reason: str, code: str,
                     delay: float) -> None:
    await conn.execute(_RESCHEDULE, parked_id, attempts, reason, code, timedelta(seconds=delay))


async def count(pool: asyncpg.Pool, consumer: str) -> int:
    return await pool.fetchval(_COUNT, consumer)
