"""SQL of the orders service and its row mapping. Every function takes the connection (or
pool) it runs on; writes run inside the caller's transaction.

The order is stored whole as JSONB (``Order.to_dict()``), next to the columns that lists
filter on; both are written by the same statement, so they never disagree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from flint_chassis import outbox
from flint_chassis.errors import Conflict
from flint_orders.domain import Order, TimelineEntry

Executor = asyncpg.Connection | asyncpg.Pool

FIRST_ORDER_NUMBER = 1001  # "#1001": numbers read like order numbers, not row counts

_SELECT_FOR_UPDATE = "SELECT doc FROM orders WHERE id = $1 FOR UPDATE"
_SELECT_DOC = "SELECT doc FROM orders WHERE id = $1 AND merchant_id = $2"
# One round trip for a read with an app token: the order and the state of the caller's install.
_SELECT_DOC_AND_INSTALL = """
SELECT (SELECT doc FROM orders WHERE id = $1 AND merchant_id = $2) AS doc, s.status, s.scopes
  FROM (VALUES (1)) AS one LEFT JOIN flint_install_state s ON s.install_id = $3
"""
_EXISTS = "SELECT 1 FROM orders WHERE id = $1 AND merchant_id = $2"
_OWNER = "SELECT merchant_id FROM orders WHERE id = $1"
_NEXT_NUMBER = """
INSERT INTO order_numbers AS n (merchant_id, last_number) VALUES ($1, $2)
ON CONFLICT (merchant_id) DO UPDATE SET last_number = n.last_number + 1
RETURNING last_number
"""
_ORDER_COLUMNS = """orders (id, merchant_id, number, status, payment_status, customer_email, currency, tags,
                    version, created_at, updated_at, doc)"""
_INSERT = f"""
INSERT INTO {_ORDER_COLUMNS}
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING 1
"""
# The version guard makes a lost update impossible even for a caller that did not lock.
_UPDATE = """
UPDATE orders
   SET status = $3, payment_status = $4, customer_email = $5, tags = $6, version = $7, updated_at = $8, doc = $9::jsonb
 WHERE id = $1 AND version = $2
"""
# A change and its timeline entry in one statement (one round trip): the entry is written
# only when the order row was (inserted, or updated at the version it was loaded at).
_TIMELINE_COLUMNS = "(order_id, sequence, type, at, actor, changes, data, event_id, caused_by)"
_INSERT_WITH_ENTRY = f"""
WITH written AS ({_INSERT.strip()})
INSERT INTO order_timeline {_TIMELINE_COLUMNS}
SELECT $1, $13, $14, $15, $16::jsonb, $17::jsonb, $18::jsonb, $19, $20 FROM written
RETURNING 1
"""
_UPDATE_WITH_ENTRY = f"""
WITH written AS ({_UPDATE.strip()} RETURNING 1)
INSERT INTO order_timeline {_TIMELINE_COLUMNS}
SELECT $1, $10, $11, $12, $13::jsonb, $14::jsonb, $15::jsonb, $16, $17 FROM written
RETURNING 1
"""
# The same, with the change's events in the outbox (and the relay's NOTIFY): still one round
# trip, and the events are written only with the change (``flint_chassis.outbox.with_change``).
_INSERT_WITH_ENTRY_AND_EVENTS = outbox.with_change(f"""
written AS ({_INSERT.strip()}),
entry AS (INSERT INTO order_timeline {_TIMELINE_COLUMNS}
          SELECT $1, $13, $14, $15, $16::jsonb, $17::jsonb, $18::jsonb, $19, $20 FROM written RETURNING 1)""",
                                                   changed="entry", first_param=21)
_UPDATE_WITH_ENTRY_AND_EVENTS = outbox.with_change(f"""
written AS ({_UPDATE.strip()} RETURNING 1),
entry AS (INSERT INTO order_timeline {_TIMELINE_COLUMNS}
          SELECT $1, $10, $11, $12, $13::jsonb, $14::jsonb, $15::jsonb, $16, $17 FROM written RETURNING 1)""",
                                                   changed="entry", first_param=18)
# A new order, its merchant's next number, its timeline entry and its events in one
# statement. The order was built and rendered with ``PENDING_NUMBER``; the statement writes
# the number it takes in its place in the record ($12), the entry's data ($18) and the
# events' bytes. Run as a transaction of its own, the number's row lock is held for the
# statement only (numbers stay gap-free: if any part fails, none is written). No
# ON CONFLICT on the id: a taken id fails the whole statement, number included.
_INSERT_NUMBERED = outbox.with_change(f"""
numbered AS (
    INSERT INTO order_numbers AS n (merchant_id, last_number) VALUES ($2, {FIRST_ORDER_NUMBER})
    ON CONFLICT (merchant_id) DO UPDATE SET last_number = n.last_number + 1
    RETURNING last_number),
written AS (
    INSERT INTO {_ORDER_COLUMNS}
    SELECT $1, $2, last_number, $4, $5, $6, $7, $8, $9, $10, $11, replace($12, $3, last_number::text)::jsonb
      FROM numbered
    RETURNING number),
entry AS (INSERT INTO order_timeline {_TIMELINE_COLUMNS}
          SELECT $1, $13, $14, $15, $16::jsonb, $17::jsonb, replace($18, $3, number::text)::jsonb, $19, $20
            FROM written RETURNING 1)""",
    changed="written", first_param=21,
    payload="convert_to(replace(convert_from(e.payload, 'UTF8'), $3, (SELECT number::text FROM written)), 'UTF8')")
_INSERT_TIMELINE = """
INSERT INTO order_timeline (order_id, sequence, type, at, actor, changes, data, event_id, caused_by)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9)
"""
_SELECT_TIMELINE = """
SELECT sequence, type, at, actor::text AS actor, changes::text AS changes, data::text AS data, event_id
  FROM order_timeline
 WHERE order_id = $1 AND sequence > $2
 ORDER BY sequence
 LIMIT $3
"""

class ConcurrentChange(Conflict):
    """The order changed since it was loaded; the caller retries with the new version (a
    consumer does so by itself: ``flint_chassis.errors.Conflict``)."""


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- the order ------------------------------------------------------------------------------------


async def lock(conn: asyncpg.Connection, order_id: str) -> Order | None:
    """Loads the order and holds its row lock until the transaction ends."""
    doc = await conn.fetchval(_SELECT_FOR_UPDATE, order_id)
    return None if doc is None else Order.from_dict(orjson.loads(doc))


async def exists(db: Executor, merchant_id: str, order_id: str) -> bool:
    return await db.fetchval(_EXISTS, order_id, merchant_id) is not None


async def owner_of(db: Executor, order_id: str) -> str | None:
    """The merchant whose order has this id, or None when there is none."""
    return await db.fetchval(_OWNER, order_id)


async def next_number(conn: asyncpg.Connection, merchant_id: str) -> int:
    """The merchant's next order number; gap-free, since a rollback gives it back."""
    return await conn.fetchval(_NEXT_NUMBER, merchant_id, FIRST_ORDER_NUMBER)


# The number a new order is built with until ``add_numbered`` writes the merchant's real one
# in its place: 18 digits, drawn per process, so no order's data holds it by chance (and none
# by design: it is never shown, and ``add_numbered`` checks where it appears).
PENDING_NUMBER = 10**17 + secrets.randbelow(8 * 10**17)
_PENDING = str(PENDING_NUMBER)


@dataclass(frozen=True)
class NewEntries:
    """Timeline entries to write with the order: each with the id of the order event
    published for it (if any) and the id of the event or command that caused it."""

    entries: tuple[TimelineEntry, ...]
    event_ids: dict[int, str]
    caused_by: str | None

    def rows(self) -> list[tuple[Any, ...]]:
        return [(e.sequence, e.type, e.at, dumps(e.actor.to_dict()), dumps(e.changes), dumps(e.data),
                 self.event_ids.get(e.sequence), self.caused_by) for e in self.entries]


async def add(conn: asyncpg.Connection, order: Order, doc: dict[str, Any] | None = None,
              timeline: NewEntries | None = None, events: outbox.Staged | None = None) -> bool:
    """Inserts a new order (``doc``: its ``to_dict()``, when the caller has it), its new
    timeline entries and ``events`` (into the outbox); False, writing nothing, when an order
    with its id exists already."""
    doc = order.to_dict() if doc is None else doc
    columns = _insert_columns(order, doc, order.number, dumps(doc))
    rows = timeline.rows() if timeline else []
    if len(rows) == 1 and events is not None:
        return await conn.fetchrow(_INSERT_WITH_ENTRY_AND_EVENTS, *columns, *rows[0], *events.columns()) is not None
    if len(rows) == 1:
        written = await conn.fetchval(_INSERT_WITH_ENTRY, *columns, *rows[0]) is not None
    elif written := await conn.fetchval(_INSERT, *columns) is not None:
        await append_timeline(conn, timeline)
    if written and events is not None:
        await _enqueue(conn, events)
    return written


async def add_numbered(conn: asyncpg.Connection, order: Order, doc: dict[str, Any], timeline: NewEntries,
                       events: outbox.Staged) -> int | None:
    """Inserts a new order built with ``PENDING_NUMBER`` (``doc``: its ``to_dict()``), its one
    timeline entry and ``events`` with one statement that takes the merchant's next number
    and writes it in the placeholder's place; returns the number. Outside a transaction the
    statement is one by itself, and holds the number's lock only while it runs.

    Returns None, writing nothing, when the placeholder appears anywhere but as the order's
    number (once in the record, at most once in the entry's data, and in each event only
    where those put it): then the caller takes the number first (``next_number``). Raises
    ConcurrentChange when an order with its id exists already."""
    (row,) = timeline.rows()
    doc_text = dumps(doc)
    in_doc, in_entry = doc_text.count(_PENDING), row[5].count(_PENDING)
    if in_doc != 1 or in_entry > 1:
        return None
    columns = events.columns()
    pending = _PENDING.encode()
    if any(payload.count(pending) != in_doc + in_entry for payload in columns[3]):
        return None
    try:
        written = await conn.fetchrow(_INSERT_NUMBERED, *_insert_columns(order, doc, _PENDING, doc_text), *row,
                                      *columns)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != "orders_pkey":
            raise
        raise ConcurrentChange(f"order {order.id} was created concurrently") from None
    return written["number"]


def _insert_columns(order: Order, doc: dict[str, Any], number: int | str, doc_text: str) -> tuple[Any, ...]:
    """Parameters $1 to $12 of ``_INSERT`` and ``_INSERT_NUMBERED`` ($3: the number, or the
    placeholder the statement replaces)."""
    return (order.id, order.merchant_id, number, order.status, doc["payment_status"], _email_key(order.customer.email),
            order.currency, list(order.tags), order.version, order.created_at, order.updated_at, doc_text)


async def save(conn: asyncpg.Connection, order: Order, doc: dict[str, Any] | None = None,
               timeline: NewEntries | None = None, events: outbox.Staged | None = None) -> None:
    """Writes the order (``doc``: its ``to_dict()``) over the version it was loaded at, with
    its new timeline entries and ``events`` (into the outbox), or raises ConcurrentChange and
    writes nothing."""
    doc = order.to_dict() if doc is None else doc
    columns = (order.id, order.loaded_version, order.status, doc["payment_status"], _email_key(order.customer.email),
               list(order.tags), order.version, order.updated_at, dumps(doc))
    rows = timeline.rows() if timeline else []
    if len(rows) == 1 and events is not None:
        written = await conn.fetchrow(_UPDATE_WITH_ENTRY_AND_EVENTS, *columns, *rows[0], *events.columns()) is not None
        events = None
    elif len(rows) == 1:
        written = await conn.fetchval(_UPDATE_WITH_ENTRY, *columns, *rows[0]) is not None
    else:
        written = await conn.execute(_UPDATE, *columns) == "UPDATE 1"
        if written:
            await append_timeline(conn, timeline)
    if not written:
        raise ConcurrentChange(f"order {order.id} is no longer at version {order.loaded_version}")
    if events is not None:
        await _enqueue(conn, events)


async def append_timeline(conn: asyncpg.Connection, timeline: NewEntries | None) -> None:
    if timeline and timeline.entries:
        order_id = timeline.entries[0].order_id
        await conn.executemany(_INSERT_TIMELINE, [(order_id, *row) for row in timeline.rows()])


async def _enqueue(conn: asyncpg.Connection, staged: outbox.Staged) -> None:
    for event in staged.events:
        await outbox.enqueue(conn, staged.topic, event)


def _email_key(email: str) -> str:
    return email.strip().lower()


# --- reads ----------------------------------------------------------------------------------------


async def order_json(db: Executor, merchant_id: str, order_id: str) -> str | None:
    """The order as stored (the API representation), or None when the merchant has no such order."""
    return await db.fetchval(_SELECT_DOC, order_id, merchant_id)


async def order_json_and_install(
    db: Executor, merchant_id: str, order_id: str, install_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The order (as ``order_json``) and the install's projected state (status and scopes;
    None when the projection has no row for it, or for a merchant token)."""
    row = await db.fetchrow(_SELECT_DOC_AND_INSTALL, order_id, merchant_id, install_id)
    state = None if row["status"] is None else {"status": row["status"], "scopes": row["scopes"]}
    return row["doc"], state


@dataclass(frozen=True)
class OrderFilters:
    merchant_id: str
    status: str | None = None
    payment_status: str | None = None
    customer_email: str | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None
    updated_gte: datetime | None = None
    updated_lt: datetime | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first list: the (created_at, id) of the last order seen. Keyset
    pagination on it is stable under concurrent inserts: nothing is skipped or repeated."""

    created_at: datetime
    order_id: str


async def list_orders(db: Executor, filters: OrderFilters, limit: int, after: Cursor | None) -> list[asyncpg.Record]:
    """Up to ``limit`` orders, newest first, after ``after``. Rows have doc, created_at, id."""
    where, args = ["merchant_id = $1"], [filters.merchant_id]

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.status is not None:
        where.append(f"status = {param(filters.status)}")
    if filters.payment_status is not None:
        where.append(f"payment_status = {param(filters.payment_status)}")
    if filters.customer_email is not None:
        where.append(f"customer_email = {param(_email_key(filters.customer_email))}")
    if filters.created_gte is not None:
        where.append(f"created_at >= {param(filters.created_gte)}")
    if filters.created_lt is not None:
        where.append(f"created_at < {param(filters.created_lt)}")
    if filters.updated_gte is not None:
        where.append(f"updated_at >= {param(filters.updated_gte)}")
    if filters.updated_lt is not None:
        where.append(f"updated_at < {param(filters.updated_lt)}")
    if filters.tag is not None:
        where.append(f"tags @> ARRAY[{param(filters.tag)}]::text[]")
    if after is not None:
        where.append(f"(created_at, id) < ({param(after.created_at)}, {param(after.order_id)})")
    sql = (f"SELECT doc, created_at, id FROM orders WHERE {' AND '.join(where)} "
           f"ORDER BY created_at DESC, id DESC LIMIT {param(limit)}")
    return await db.fetch(sql, *args)


async def timeline(db: Executor, order_id: str, after_sequence: int, limit: int) -> list[asyncpg.Record]:
    return await db.fetch(_SELECT_TIMELINE, order_id, after_sequence, limit)
