"""SQL of the refunds service and its row mapping. Every function takes the connection (or
pool) it runs on; writes run inside the caller's transaction.

A refund is stored whole as JSONB (``Refund.to_dict()``, exactly what the API answers) next
to the columns lists filter on and runners schedule by; one statement writes both.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from flint_contracts.refund_rules import OrderLine
from flint_refunds.domain import KnownCapture, OrderProjection, OrderState, Refund

Executor = asyncpg.Connection | asyncpg.Pool

_ORDER_COLUMNS = "order_id, merchant_id, currency, lines::text AS lines, shipping, discounts, canceled, order_version"
_ORDER = f"SELECT {_ORDER_COLUMNS} FROM order_money WHERE order_id = $1"
_LOCK_ORDER = f"{_ORDER} FOR UPDATE"
# A newer order event replaces what an older one said; a stale or replayed one changes nothing.
_UPSERT_ORDER = """
INSERT INTO order_money (order_id, merchant_id, currency, lines, shipping, discounts, canceled, order_version)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
ON CONFLICT (order_id) DO UPDATE
   SET currency = EXCLUDED.currency, lines = EXCLUDED.lines, shipping = EXCLUDED.shipping,
       discounts = EXCLUDED.discounts, canceled = EXCLUDED.canceled, order_version = EXCLUDED.order_version,
       updated_at = now()
 WHERE order_money.order_version < EXCLUDED.order_version AND order_money.merchant_id = EXCLUDED.merchant_id
"""

_CAPTURE_COLUMNS = "payment_id, order_id, merchant_id, amount, currency, captured_at, processor, processor_reference"
_CAPTURES_OF_ORDER = f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE order_id = $1 ORDER BY captured_at, payment_id"
# Idempotent by payment id; the processor's reference fills in whichever source brings it.
# A payment id seen with another order, merchant or amount returns no row.
_UPSERT_CAPTURE = f"""
INSERT INTO captures ({_CAPTURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (payment_id) DO UPDATE
   SET processor = coalesce(captures.processor, EXCLUDED.processor),
       processor_reference = coalesce(captures.processor_reference, EXCLUDED.processor_reference)
 WHERE (captures.order_id, captures.merchant_id, captures.amount, captures.currency)
     = (EXCLUDED.order_id, EXCLUDED.merchant_id, EXCLUDED.amount, EXCLUDED.currency)
RETURNING 1
"""

_REFUNDS_OF_ORDER = "SELECT doc::text FROM refunds WHERE order_id = $1 ORDER BY created_at, id"
_REFUND = "SELECT doc::text FROM refunds WHERE id = $1"
_LOCK_REFUND = f"{_REFUND} FOR UPDATE"
_REFUND_OF_MERCHANT = "SELECT doc::text FROM refunds WHERE id = $1 AND merchant_id = $2"
_INSERT_REFUND = """
INSERT INTO refunds (id, merchant_id, order_id, status, created_at, updated_at, doc, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now() + make_interval(secs => $8))
"""
# Settled refunds leave the runners' schedule.
_SAVE_REFUND = """
UPDATE refunds SET status = $2, updated_at = $3, doc = $4::jsonb,
       next_attempt_at = CASE WHEN $2 = 'pending' THEN next_attempt_at END
 WHERE id = $1
"""
# A lease: the claimed refunds belong to this runner until it settles them or the lease ends.
_CLAIM_DUE = """
UPDATE refunds SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
 WHERE id IN (SELECT id FROM refunds
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1
               FOR UPDATE SKIP LOCKED)
RETURNING id, attempts
"""
_RETRY_LATER = """
UPDATE refunds SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3
 WHERE id = $1 AND status = 'pending'
"""
_REFERENCES = "SELECT payment_id, processor_reference FROM captures WHERE payment_id = ANY($1::text[])"


def dumps(value: object) -> str:
    return orjson.dumps(value).decode()


# --- the order's money -------------------------------------------------------------------------------


async def order_state(conn: asyncpg.Connection, order_id: str, *, lock: bool) -> OrderState | None:
    """The order's projection, captures and refunds; with ``lock``, its row stays locked until
    the transaction ends (every refund decision and settlement of the order takes it first)."""
    row = await conn.fetchrow(_LOCK_ORDER if lock else _ORDER, order_id)
    if row is None:
        return None
    captures = [KnownCapture(**dict(r)) for r in await conn.fetch(_CAPTURES_OF_ORDER, order_id)]
    refunds = [_PARSED.refund(r["doc"]) for r in await conn.fetch(_REFUNDS_OF_ORDER, order_id)]
    return OrderState(_projection(row), tuple(captures), tuple(refunds))


class ParsedRefunds:
    """Refunds parsed from their stored documents, by the document's exact text.

    Every decision and settlement reads all refunds of the order; parsing each document
    (pydantic validates its lines, parts and actor) made an order with many refunds cost more
    per refund the more it had (a hot order in bench/refunds.py: 30 ms of CPU per refund). A
    document's text is its whole content, so the same text always parses to the same refund;
    each caller gets its own shallow copy, so changing one never reaches another. At most
    ``size`` documents are kept (least recently used first out)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._parsed: OrderedDict[str, Refund] = OrderedDict()

    def refund(self, doc: str) -> Refund:
        found = self._parsed.get(doc)
        if found is None:
            found = self._parsed[doc] = Refund.from_dict(orjson.loads(doc))
            if found.holds_room:  # what the rules read of it, built once: every copy starts with it
                found.as_past_refund()
            if len(self._parsed) > self.size:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(doc)
        return copy.copy(found)


_PARSED = ParsedRefunds()


async def record_order(conn: asyncpg.Connection, order: OrderProjection) -> None:
    await conn.execute(_UPSERT_ORDER, order.order_id, order.merchant_id, order.currency, dumps(order.lines_json()),
                       order.shipping, list(order.discounts), order.canceled, order.version)


async def record_capture(conn: asyncpg.Connection, capture: KnownCapture) -> bool:
    """Stores the capture; False when its payment id is known with other figures."""
    return await conn.fetchval(
        _UPSERT_CAPTURE, capture.payment_id, capture.order_id, capture.merchant_id, capture.amount, capture.currency,
        capture.captured_at, capture.processor, capture.processor_reference) is not None


async def charge_references(db: Executor, payment_ids: list[str]) -> dict[str, str | None]:
    rows = await db.fetch(_REFERENCES, payment_ids)
    return {row["payment_id"]: row["processor_reference"] for row in rows}


def _projection(row: asyncpg.Record) -> OrderProjection:
    return OrderProjection(
        order_id=row["order_id"], merchant_id=row["merchant_id"], currency=row["currency"],
        lines=tuple(OrderLine.model_validate(line) for line in orjson.loads(row["lines"])), shipping=row["shipping"],
        discounts=tuple(row["discounts"]), canceled=row["canceled"], version=row["order_version"],
    )


# --- refunds ---------------------------------------------------------------------------------------


async def insert_refund(conn: asyncpg.Connection, refund: Refund, *, due_in: float) -> None:
    """Stores a new refund; a worker may run it ``due_in`` seconds from now."""
    await conn.execute(_INSERT_REFUND, refund.id, refund.merchant_id, refund.order_id, refund.status,
                       refund.created_at, refund.updated_at, dumps(refund.to_dict()), due_in)


async def save_refund(conn: asyncpg.Connection, refund: Refund) -> None:
    await conn.execute(_SAVE_REFUND, refund.id, refund.status, refund.updated_at, dumps(refund.to_dict()))


async def refund(db: Executor, refund_id: str, *, lock: bool = False) -> Refund | None:
    doc = await db.fetchval(_LOCK_REFUND if lock else _REFUND, refund_id)
    return None if doc is None else Refund.from_dict(orjson.loads(doc))


async def refund_json(db: Executor, merchant_id: str, refund_id: str) -> str | None:
    """The refund as stored (the API representation), or None when the merchant has no such refund."""
    return await db.fetchval(_REFUND_OF_MERCHANT, refund_id, merchant_id)


@dataclass(frozen=True)
class Due:
    refund_id: str
    attempts: int


async def claim_due(db: Executor, limit: int, lease_seconds: float) -> list[Due]:
    """Pending refunds whose time has come, leased to the caller for ``lease_seconds``."""
    return [Due(row["id"], row["attempts"]) for row in await db.fetch(_CLAIM_DUE, limit, lease_seconds)]


async def retry_later(db: Executor, refund_id: str, delay: float, error: str) -> None:
    await db.execute(_RETRY_LATER, refund_id, delay, error[:1000])


# --- lists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a newest-first list of refunds stopped: the last refund's creation time and id."""

    created_at: datetime
    refund_id: str


async def list_refunds(
    db: Executor, merchant_id: str, *, order_id: str | None, status: str | None, limit: int, after: Position | None
) -> list[asyncpg.Record]:
    """Up to ``limit`` refunds of the merchant, newest first. Rows have doc, created_at, id."""
    where, args = ["merchant_id = $1"], [merchant_id]

    def param(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if order_id is not None:
        where.append(f"order_id = {param(order_id)}")
    if status is not None:
        where.append(f"status = {param(status)}")
    if after is not None:
        where.append(f"(created_at, id) < ({param(after.created_at)}, {param(after.refund_id)})")
    sql = (f"SELECT doc::text AS doc, created_at, id FROM refunds WHERE {' AND '.join(where)} "
           f"ORDER BY created_at DESC, id DESC LIMIT {param(limit)}")
    return await db.fetch(sql, *args)


async def order_of_merchant(db: Executor, merchant_id: str, order_id: str) -> bool:
    row = await db.fetchrow(_ORDER, order_id)
    return row is not None and row["merchant_id"] == merchant_id
