"""SQL of the orders service and its row mapping. Every function takes the connection (or
pool) it runs on; writes run inside the caller's transaction.

The order is stored whole as JSONB (``Order.to_dict()``), next to the columns that lists
filter on; both are written by the same statement, so they never disagree.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from flint_chassis.errors import Conflict
from flint_orders.domain import Order, TimelineEntry

Executor = asyncpg.Connection | asyncpg.Pool

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_ORDER_NUMBER = 1001  # "#1001": numbers read like order numbers, not row counts

_SELECT_FOR_UPDATE = "SELECT doc FROM orders WHERE id = $1 FOR UPDATE"
_SELECT_DOC = "SELECT doc FROM orders WHERE id = $1 AND merchant_id = $2"
# One round trip for a read with an app token: the order and the state of the caller's install.
_SELECT_DOC_AND_INSTALL = """
SELECT (SELECT doc FROM orders WHERE id = $1 AND merchant_id = $2) AS doc, s.status, s.scopes
  FROM (VALUES (1)) AS one LEFT JOIN flint_install_state s ON s.install_id = $3
"""
_EXISTS = "SELECT 1 FROM orders WHERE id = $1 AND merchant_id = $2"
_NEXT_NUMBER = """
INSERT INTO order_numbers AS n (merchant_id, last_number) VALUES ($1, $2)
ON CONFLICT (merchant_id) DO UPDATE SET last_number = n.last_number + 1
RETURNING last_number
"""
_INSERT = """
INSERT INTO orders (id, merchant_id, number, status, payment_status, customer_email, currency, tags,
                    version, created_at, updated_at, doc)
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

_EXPIRE_KEY = "DELETE FROM idempotency_keys WHERE merchant_id = $1 AND caller = $2 AND key = $3 AND expires_at < now()"
_CLAIM_KEY = """
INSERT INTO idempotency_keys (merchant_id, caller, key, fingerprint, status_code, response, expires_at)
VALUES ($1, $2, $3, $4, 0, 'null'::jsonb, now() + $5::interval)
ON CONFLICT DO NOTHING
RETURNING 1
"""
_SELECT_KEY = """
SELECT fingerprint, status_code, response::text AS response
  FROM idempotency_keys WHERE merchant_id = $1 AND caller = $2 AND key = $3
"""
_STORE_RESPONSE = """
UPDATE idempotency_keys SET status_code = $4, response = $5::jsonb WHERE merchant_id = $1 AND caller = $2 AND key = $3
"""
_PURGE_KEYS = "DELETE FROM idempotency_keys WHERE expires_at < now()"


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


async def next_number(conn: asyncpg.Connection, merchant_id: str) -> int:
    """The merchant's next order number; gap-free, since a rollback gives it back."""
    return await conn.fetchval(_NEXT_NUMBER, merchant_id, FIRST_ORDER_NUMBER)


async def add(conn: asyncpg.Connection, order: Order) -> bool:
    """Inserts a new order; False when an order with its id exists already."""
    doc = order.to_dict()
    inserted = await conn.fetchval(
        _INSERT, order.id, order.merchant_id, order.number, order.status, doc["payment_status"],
        _email_key(order.customer.email), order.currency, list(order.tags), order.version,
        order.created_at, order.updated_at, dumps(doc),
    )
    return inserted is not None


async def save(conn: asyncpg.Connection, order: Order) -> None:
    """Writes the order over the version it was loaded at, or raises ConcurrentChange."""
    doc = order.to_dict()
    status = await conn.execute(
        _UPDATE, order.id, order.loaded_version, order.status, doc["payment_status"],
        _email_key(order.customer.email), list(order.tags), order.version, order.updated_at, dumps(doc),
    )
    if status != "UPDATE 1":
        raise ConcurrentChange(f"order {order.id} is no longer at version {order.loaded_version}")


async def append_timeline(
    conn: asyncpg.Connection, entries: list[TimelineEntry], event_ids: dict[int, str], caused_by: str | None
) -> None:
    await conn.executemany(_INSERT_TIMELINE, [
        (e.order_id, e.sequence, e.type, e.at, dumps(e.actor.model_dump(mode="json")), dumps(e.changes),
         dumps(e.data), event_ids.get(e.sequence), caused_by)
        for e in entries
    ])


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
    tag: str | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first list: the (created_at, id) of the last order seen. Keyset
    pagination on it is stable under concurrent inserts: nothing is skipped or repeated."""

    created_at: datetime
    order_id: str

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike a float
        return base64.urlsafe_b64encode(f"o1:{micros}:{self.order_id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything this service did not hand out."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            version, micros, order_id = raw.split(":", 2)
            if version != "o1" or not order_id.startswith("ord_"):
                raise ValueError
            created_at = _EPOCH + timedelta(microseconds=int(micros))
        except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
            raise ValueError("is not a cursor this API handed out") from None
        return cls(created_at, order_id)


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
    if filters.tag is not None:
        where.append(f"tags @> ARRAY[{param(filters.tag)}]::text[]")
    if after is not None:
        where.append(f"(created_at, id) < ({param(after.created_at)}, {param(after.order_id)})")
    sql = (f"SELECT doc, created_at, id FROM orders WHERE {' AND '.join(where)} "
           f"ORDER BY created_at DESC, id DESC LIMIT {param(limit)}")
    return await db.fetch(sql, *args)


async def timeline(db: Executor, order_id: str, after_sequence: int, limit: int) -> list[asyncpg.Record]:
    return await db.fetch(_SELECT_TIMELINE, order_id, after_sequence, limit)


# --- idempotency keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    body: str


async def claim_key(
    conn: asyncpg.Connection, merchant_id: str, caller: str, key: str, fingerprint: str, ttl: timedelta
) -> StoredResponse | None:
    """Claims the key for this request, or returns what an earlier request stored under it.

    A concurrent request with the same key waits on the row until the first one commits
    (then replays it) or rolls back (then claims the key itself)."""
    await conn.execute(_EXPIRE_KEY, merchant_id, caller, key)
    if await conn.fetchval(_CLAIM_KEY, merchant_id, caller, key, fingerprint, ttl) is not None:
        return None
    row = await conn.fetchrow(_SELECT_KEY, merchant_id, caller, key)
    return StoredResponse(row["fingerprint"], row["status_code"], row["response"])


async def store_response(
    conn: asyncpg.Connection, merchant_id: str, caller: str, key: str, status_code: int, body: str
) -> None:
    await conn.execute(_STORE_RESPONSE, merchant_id, caller, key, status_code, body)


async def purge_expired_keys(db: Executor) -> None:
    await db.execute(_PURGE_KEYS)
