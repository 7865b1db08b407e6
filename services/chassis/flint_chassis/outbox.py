"""Transactional outbox and its relay.

State and the events that describe it commit together: a handler calls :func:`enqueue` on
the connection of its open transaction. The :class:`OutboxRelay` publishes committed rows
to Kafka with an idempotent producer, keyed by aggregate id, in position order per key,
and marks them published.

Ordering with several relays: each relay claims rows with ``FOR UPDATE SKIP LOCKED`` and
takes a transaction-scoped advisory lock per key, so two relays never hold rows of the same
aggregate at once; the later relay only sees that aggregate's rows after the first has
published and committed. A relay that dies between publish and mark rolls back: the rows
are published again (at least once), and consumers drop the duplicate by event id.

Keys are stored as bytes and headers as base64 (``flint_chassis.wire``), so any message,
including a dead letter carrying a hostile producer's bytes, can be written. The relay's
LISTEN survives a lost database connection (``flint_chassis.listen``).

Each row keeps the W3C ``traceparent`` of the work that wrote it (``flint_chassis.tracing``);
the relay publishes the row in that trace (a PRODUCER span when tracing is on) and sends the
``traceparent`` header, unless the row's own headers already carry one (a dead letter keeps
the original message's).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry.trace import SpanKind

from flint_chassis import tracing
from flint_chassis.listen import NotifyListener, woken
from flint_chassis.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from flint_chassis.wire import decode_headers, encode_headers
from flint_contracts.envelope import EventEnvelope

log = logging.getLogger("flint.outbox")

NOTIFY_CHANNEL = "flint_outbox"

# One round trip: the row, and the notification the relay listens for (PostgreSQL delivers
# it at commit, once per transaction however many rows).
_INSERT = f"""
WITH added AS (
    INSERT INTO flint_outbox (event_id, topic, key, payload, headers, traceparent)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6)
    ON CONFLICT (event_id) DO NOTHING
)
SELECT pg_notify('{NOTIFY_CHANNEL}', '')
"""

# Rows are scanned in position order; the advisory lock is taken per key as rows are
# examined, so rows whose key another relay holds are skipped until it commits. This relies
# on an index scan that stops at LIMIT: with a sort plan every unpublished row's key would be
# locked (still correct, but the second relay could never help), so _ORDERED_SCAN forbids it.
_CLAIM = """
SELECT position, event_id, topic, key, payload, headers, traceparent
FROM flint_outbox
WHERE published_at IS NULL
  AND pg_try_advisory_xact_lock(hashtextextended('flint_outbox:' || coalesce(encode(key, 'hex'), ''), 0))
ORDER BY position
LIMIT $1
FOR UPDATE SKIP LOCKED
"""

# The claim can leave a gap at the front of a key: rows of the key it meets while another relay
# holds the key are skipped, and if that relay commits while the scan goes on, the key's later
# rows are claimed. Publishing those would put them before the skipped one on Kafka. So after
# the claim (the key's lock now ours), each key's first claimed row must be its first
# unpublished row; a key that fails this is left for the next round, in order.
_FIRST_UNPUBLISHED = """
SELECT coalesce(key, '\\x'::bytea) AS key, min(position) AS first
FROM flint_outbox
WHERE published_at IS NULL AND position <= $2 AND coalesce(key, '\\x'::bytea) = ANY($1::bytea[])
GROUP BY 1
"""

# Bytes the relay's producer gathers per partition before ``send`` waits for the batch to go
# out. aiokafka's default (16 KiB) holds about six order events: a round of 200 rows then
# waited for some thirty produce requests one after the other (0.7 ms per row at 800 rows/s).
# 256 KiB takes a whole round, and stays well under the broker's 1 MiB per batch.
PRODUCER_BATCH_BYTES = 256 * 1024

_ORDERED_SCAN = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"
_MARK = "UPDATE flint_outbox SET published_at = now() WHERE position = ANY($1::bigint[])"
_PURGE = "DELETE FROM flint_outbox WHERE published_at < now() - $1::interval"


async def _without_gaps(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
    """``rows`` less the keys whose first claimed row is not the key's first unpublished row
    (see ``_FIRST_UNPUBLISHED``)."""
    if not rows:
        return rows
    first_claimed: dict[bytes, int] = {}
    for row in rows:
        first_claimed.setdefault(bytes(row["key"] or b""), row["position"])
    found = await conn.fetch(_FIRST_UNPUBLISHED, list(first_claimed), rows[-1]["position"])
    behind = {bytes(r["key"]) for r in found if r["first"] < first_claimed[bytes(r["key"])]}
    if behind:
        log.debug("outbox: %d key(s) wait for an earlier row another relay skipped", len(behind))
    return [row for row in rows if bytes(row["key"] or b"") not in behind]


def event_headers(event: EventEnvelope) -> list[tuple[str, str]]:
    """Kafka headers that let consumers route and trace without parsing the body."""
    headers = [("flint-event-id", event.id), ("flint-event-type", event.type), ("content-type", "application/json")]
    if event.correlation_id:
        headers.append(("flint-correlation-id", event.correlation_id))
    if event.merchant_id:
        headers.append(("flint-merchant-id", event.merchant_id))
    return headers


async def enqueue(
    conn: asyncpg.Connection,
    topic: str,
    event: EventEnvelope,
    *,
    key: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Add ``event`` to the outbox inside the caller's transaction. Key defaults to the subject."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.enqueue must run inside the transaction that changes the state")
    headers = event_headers(event) + list(extra_headers)
    key = key if key is not None else event.subject
    await enqueue_raw(conn, topic, event.id, key.encode() if key is not None else None, event.to_bytes(), headers)


@dataclass(frozen=True)
class Staged:
    """Events for the outbox, to be written by the statement that writes the change they
    announce (one round trip for both; ``with_change``), in order, keyed by their subject."""

    topic: str
    events: Sequence[EventEnvelope]

    def columns(self) -> tuple[list[Any], ...]:
        """The six arrays ``with_change``'s parameters take: ids, topics, keys, payloads,
        headers, traceparents."""
        return StagedRaw(self.topic, [(e.id, e.subject.encode() if e.subject is not None else None, e.to_bytes(),
                                       event_headers(e)) for e in self.events]).columns()


@dataclass(frozen=True)
class StagedRaw:
    """Already-encoded messages for ``with_change`` (what ``enqueue_raw`` takes, several at
    once): ``(message_id, key, payload, headers)`` each, in order, all to ``topic``."""

    topic: str
    messages: Sequence[tuple[str, bytes | None, bytes, Iterable[tuple[str, bytes | str]]]]

    def columns(self) -> tuple[list[Any], ...]:
        """The six arrays ``with_change``'s parameters take (see ``Staged.columns``)."""
        traceparent = tracing.current_traceparent()
        rows = [(message_id, self.topic, key, payload, encode_headers(headers), traceparent)
                for message_id, key, payload, headers in self.messages]
        return tuple(list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 6


def with_change(ctes: str, changed: str, first_param: int, payload: str = "e.payload") -> str:
    """One statement: the caller's data-modifying CTEs (``name AS (...)``, comma-separated;
    PostgreSQL allows them only at the top level), then the staged events' outbox rows and the
    relay's notification, both only if CTE ``changed`` returned a row. ``Staged.columns()``
    (or ``StagedRaw.columns()``) fills parameters ``first_param`` to ``first_param + 5``; the statement returns a row
    exactly when ``changed`` did: ``changed``'s columns, after one named ``notified``.

    ``payload`` is the SQL expression each row's payload is stored as: the staged bytes
    (``e.payload``) unless the caller completes them from its own CTEs (the orders service
    writes the order number it took in the same statement into its event)."""
    p = [f"${first_param + i}" for i in range(6)]
    return f"""
WITH {ctes.strip()},
queued AS (
    INSERT INTO flint_outbox (event_id, topic, key, payload, headers, traceparent)
    SELECT e.event_id, e.topic, e.key, {payload}, e.headers, e.traceparent
      FROM unnest({p[0]}::text[], {p[1]}::text[], {p[2]}::bytea[], {p[3]}::bytea[], {p[4]}::jsonb[], {p[5]}::text[])
           WITH ORDINALITY AS e(event_id, topic, key, payload, headers, traceparent, n)
     WHERE EXISTS (SELECT 1 FROM {changed})
     ORDER BY e.n
    ON CONFLICT (event_id) DO NOTHING
)
SELECT pg_notify('{NOTIFY_CHANNEL}', '') AS notified, {changed}.* FROM {changed}
"""


async def enqueue_raw(
    conn: asyncpg.Connection, topic: str, message_id: str, key: bytes | None, payload: bytes,
    headers: Iterable[tuple[str, bytes | str]],
) -> None:
    """Add already-encoded bytes (e.g. a dead letter carrying the original message). Key and
    header values may be any bytes. A second row with the same ``message_id`` is ignored. The
    row keeps the ``traceparent`` of the work at hand."""
    await conn.execute(_INSERT, message_id, topic, key, payload, encode_headers(headers), tracing.current_traceparent())


_UNPUBLISHED_IDS = "SELECT event_id FROM flint_outbox WHERE published_at IS NULL AND topic = $1 ORDER BY position"
# A row the relay is publishing right now is locked: the DELETE waits for the relay's commit,
# then finds the row published and leaves it (it is on Kafka already).
_WITHDRAW = "DELETE FROM flint_outbox WHERE event_id = ANY($1::text[]) AND published_at IS NULL RETURNING event_id"


async def unpublished_ids(conn: asyncpg.Connection, topic: str) -> list[str]:
    """Ids of the rows for ``topic`` not published yet, oldest first."""
    return [row["event_id"] for row in await conn.fetch(_UNPUBLISHED_IDS, topic)]


async def withdraw(conn: asyncpg.Connection, message_ids: Iterable[str]) -> list[str]:
    """Remove rows that are not published yet, inside the caller's transaction (installs
    withdraws what it routed to an app that was just uninstalled). Returns the ids removed:
    a row already published, or being published, stays and is not among them."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.withdraw must run inside the transaction that decides it")
    return [row["event_id"] for row in await conn.fetch(_WITHDRAW, list(message_ids))]


class OutboxRelay:
    """Publishes committed rows. Run one or more per service database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        *,
        name: str = "relay",
        batch_size: int = 200,
        poll_interval: float = 1.0,
        linger: float = 0.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._pool = pool
        self._bootstrap = bootstrap_servers
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger = linger
        self._retention = retention
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self.listener = NotifyListener(pool, NOTIFY_CHANNEL, self._wake.set)
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.failing_since: float | None = None  # monotonic time of the first failed batch in a row
        self.last_error: str | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            enable_idempotence=True,  # acks=all, no duplicates or reordering from producer retries
            linger_ms=2,
            max_batch_size=PRODUCER_BATCH_BYTES,
            client_id=f"flint-outbox-{self._name}",
        )
        await self._producer.start()
        await self.listener.ensure()
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.listener.close()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _run(self) -> None:
        cycles = 0
        while True:
            # Cleared before the claim, never after: a NOTIFY that arrives while this round
            # runs is for a row its claim may not have seen, and must start another round (cleared
            # after the round, it was lost, and that row waited for the poll: up to a second).
            self._wake.clear()
            sent = await self._publish_safely()
            cycles += 1
            if cycles % 1000 == 0:
                await self._purge()
            if sent < self._batch_size:
                if await self._listen_again():
                    continue  # notifications sent while it was not listening are lost: look now
                if not await woken(self._wake, self._poll_interval):
                    continue
                if self._linger:  # woken by a commit: let the commits right behind it join its batch
                    await asyncio.sleep(self._linger)

    async def _publish_safely(self) -> int:
        try:
            sent = await self.publish_batch()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            self._failed(f"{type(error).__name__}: {error}")
            await asyncio.sleep(self._poll_interval)
            return 0
        except Exception as error:
            log.exception("outbox relay %s failed a batch; retrying", self._name)
            self._failed(f"{type(error).__name__}: {error}")
            await asyncio.sleep(self._poll_interval)
            return 0
        self.failing_since, self.last_error = None, None
        return sent

    def _failed(self, error: str) -> None:
        OUTBOX_PUBLISH_FAILURES.inc()
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("outbox relay %s cannot publish: %s; retrying every %.1fs", self._name, error,
                        self._poll_interval)
        self.last_error = error

    async def _listen_again(self) -> bool:
        try:
            return await self.listener.ensure()
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.debug("outbox relay %s cannot LISTEN yet: %s", self._name, error)
            return False

    async def publish_batch(self) -> int:
        """Publish one batch of committed rows; returns how many were published."""
        assert self._producer is not None, "relay not started"
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_ORDERED_SCAN)
            rows = await _without_gaps(conn, await conn.fetch(_CLAIM, self._batch_size))
            if not rows:
                return 0
            # Send in position order, then wait for every ack: the idempotent producer keeps
            # per-partition order, so a key's events reach Kafka in the order they committed.
            futures = [await self._send(row) for row in rows]
            await asyncio.gather(*futures)
            await self.before_mark(rows)
            await conn.execute(_MARK, [row["position"] for row in rows])
        self.published += len(rows)
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> asyncio.Future:
        """Hand one row to the producer, in the trace that wrote it; returns the ack's future."""
        headers = decode_headers(row["headers"])
        carried_in = tracing.traceparent_of(headers)  # a dead letter keeps the original message's
        if not tracing.enabled():
            if carried_in is None and row["traceparent"] is not None:
                headers.append((tracing.TRACEPARENT, row["traceparent"].encode()))
            return await self._produce(row, headers)
        attributes = {"messaging.system": "kafka", "messaging.operation.type": "send",
                      "messaging.destination.name": row["topic"], "messaging.message.id": row["event_id"]}
        with tracing.span(f"send {row['topic']}", kind=SpanKind.PRODUCER, parent=carried_in or row["traceparent"],
                          attributes=attributes):
            if carried_in is None:
                headers.append((tracing.TRACEPARENT, tracing.current_traceparent().encode()))
            return await self._produce(row, headers)

    async def _produce(self, row: asyncpg.Record, headers: list[tuple[str, bytes]]) -> asyncio.Future:
        return await self._producer.send(
            row["topic"], value=bytes(row["payload"]), key=bytes(row["key"]) if row["key"] is not None else None,
            headers=headers,
        )

    async def before_mark(self, rows: list[asyncpg.Record]) -> None:
        """Hook between publish and mark (tests use it to kill a relay at the worst moment)."""

    async def _purge(self) -> None:
        try:
            async with self._pool.acquire() as conn:
                await conn.execute(_PURGE, self._retention)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("outbox purge failed: %s", error)
