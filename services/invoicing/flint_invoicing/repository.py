"""SQL of the invoicing service and its row mapping. Every function takes the connection (or
pool) it runs on; writes run inside the caller's transaction.

An invoice is stored whole as JSONB (``Invoice.to_dict()``) next to the columns lists and the
follow-up schedule read; one statement writes both, guarded by the version it was loaded at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from flint_chassis.errors import Conflict
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_invoicing.domain import BillableOrder, Customer, Invoice, InvoiceLine, OrderTotals

Executor = asyncpg.Connection | asyncpg.Pool

FIRST_INVOICE_NUMBER = 1  # printed INV-0001


class ConcurrentChange(Conflict):
    """The invoice changed since it was loaded (a caller that did not lock it); retry."""


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- the orders projection ----------------------------------------------------------------------

_UPSERT_ORDER = """
INSERT INTO orders AS o (id, merchant_id, version, status, billable, captured_payments, updated_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
ON CONFLICT (id) DO UPDATE
   SET version = EXCLUDED.version, status = EXCLUDED.status, billable = EXCLUDED.billable,
       captured_payments = EXCLUDED.captured_payments, updated_at = EXCLUDED.updated_at
 WHERE o.version < EXCLUDED.version AND o.merchant_id = EXCLUDED.merchant_id
"""
_LOCK_ORDER = "SELECT * FROM orders WHERE id = $1 AND merchant_id = $2 FOR UPDATE"
_GET_ORDER = "SELECT * FROM orders WHERE id = $1"


@dataclass(frozen=True)
class ProjectedOrder:
    """An order as the last order event invoicing consumed showed it."""

    id: str
    merchant_id: str
    version: int
    status: str
    billable: BillableOrder
    captured_payments: frozenset[str]

    def billable_now(self, invoices: list[Invoice]) -> BillableOrder:
        """The order as an invoice may bill it: a payment of one of its invoices that the order
        has not shown yet (orders applies it a moment later) already counts as paid, so no new
        invoice can ask for that money again."""
        unseen = [i.amount_paid for i in invoices if i.status == "paid" and i.payment_id not in self.captured_payments]
        if not unseen:
            return self.billable
        paid = sum(unseen, Money.zero(self.billable.currency))
        balance = self.billable.balance_due - paid
        balance = balance if balance.amount > 0 else Money.zero(balance.currency)
        return self.billable.model_copy(update={"paid": self.billable.paid + paid, "balance_due": balance})


def billable_of(order: OrderRecord) -> BillableOrder:
    """What an invoice needs of an order record."""
    return BillableOrder(
        order_id=order.id, merchant_id=order.merchant_id, order_number=order.number, currency=order.currency,
        customer=Customer(email=order.customer.email, name=order.customer.name),
        lines=tuple(InvoiceLine(title=li.title, sku=li.sku, quantity=li.quantity, unit_price=li.unit_price, tax=li.tax)
                    for li in order.line_items),
        totals=OrderTotals(subtotal=order.totals.subtotal, tax=order.totals.tax, shipping=order.totals.shipping,
                           discount=order.totals.discount, total=order.totals.total),
        paid=order.amounts.net_paid, balance_due=order.amounts.balance_due,
    )  # fmt: skip


async def project_order(conn: asyncpg.Connection, order: OrderRecord) -> bool:
    """Keeps the newest state of ``order``; False when what is stored is as new or newer."""
    captured = [p.id for p in order.payments if p.status == "captured"]
    tag = await conn.execute(_UPSERT_ORDER, order.id, order.merchant_id, order.version, order.status,
                             dumps(billable_of(order).model_dump(mode="json")), captured, order.updated_at)
    return tag.endswith(" 1")


async def lock_order(conn: asyncpg.Connection, merchant_id: str, order_id: str) -> ProjectedOrder | None:
    """The merchant's order, locked until the transaction ends (invoices of one order are made
    one after another, so two at once cannot both take the same part of its balance)."""
    return _order(await conn.fetchrow(_LOCK_ORDER, order_id, merchant_id))


async def get_order(db: Executor, order_id: str) -> ProjectedOrder | None:
    return _order(await db.fetchrow(_GET_ORDER, order_id))


def _order(row: asyncpg.Record | None) -> ProjectedOrder | None:
    if row is None:
        return None
    return ProjectedOrder(id=row["id"], merchant_id=row["merchant_id"], version=row["version"], status=row["status"],
                          billable=BillableOrder.model_validate_json(row["billable"]),
                          captured_payments=frozenset(row["captured_payments"]))


# --- merchants ----------------------------------------------------------------------------------

_UPSERT_MERCHANT = """
INSERT INTO merchants (id, name, created_at) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
"""


async def record_merchant(conn: asyncpg.Connection, merchant_id: str, name: str, created_at: datetime) -> None:
    await conn.execute(_UPSERT_MERCHANT, merchant_id, name, created_at)


async def merchant_name(db: Executor, merchant_id: str) -> str | None:
    return await db.fetchval("SELECT name FROM merchants WHERE id = $1", merchant_id)


# --- invoices -----------------------------------------------------------------------------------

_NEXT_NUMBER = """
INSERT INTO invoice_numbers AS n (merchant_id, last_number) VALUES ($1, $2)
ON CONFLICT (merchant_id) DO UPDATE SET last_number = n.last_number + 1
RETURNING last_number
"""
_INSERT_INVOICE = """
INSERT INTO invoices (id, merchant_id, order_id, number, status, version, created_at, next_follow_up_at,
                      latest_link, doc)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
"""
_UPDATE_INVOICE = """
UPDATE invoices
   SET status = $3, version = $4, next_follow_up_at = $5, latest_link = coalesce($6, latest_link), doc = $7::jsonb
 WHERE id = $1 AND version = $2
"""
_INVOICE_COLUMNS = "doc::text AS doc, latest_link, next_follow_up_at"
_LOCK_INVOICE = f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = $1 FOR UPDATE"
_GET_INVOICE = f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = $1 AND merchant_id = $2"
_INVOICE_DOC = "SELECT doc::text FROM invoices WHERE id = $1"
_INVOICES_OF_ORDER = "SELECT doc::text AS doc FROM invoices WHERE order_id = $1 ORDER BY created_at, id"
_BY_LINK = f"""
SELECT {_INVOICE_COLUMNS} FROM pay_links l JOIN invoices i ON i.id = l.invoice_id WHERE l.token_hash = $1
"""
_ADD_LINK = "INSERT INTO pay_links (token_hash, invoice_id, issued_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
# The follow-up schedule: the invoice whose next step is due soonest, claimed by locking its
# row. A row another worker (or a payment, or the API) holds is skipped, not waited for.
_CLAIM_DUE = f"""
SELECT {_INVOICE_COLUMNS} FROM invoices
 WHERE next_follow_up_at <= $1
 ORDER BY next_follow_up_at
 LIMIT 1
 FOR UPDATE SKIP LOCKED
"""
_SET_FOLLOW_UP = "UPDATE invoices SET next_follow_up_at = $2 WHERE id = $1"


@dataclass(frozen=True)
class StoredInvoice:
    """An invoice with what is stored beside it: its newest link (sealed) and when follow-up
    looks at it next."""

    invoice: Invoice
    latest_link: bytes | None
    next_follow_up_at: datetime | None


async def next_number(conn: asyncpg.Connection, merchant_id: str) -> int:
    """The merchant's next invoice number; gap-free, since a rollback gives it back."""
    return await conn.fetchval(_NEXT_NUMBER, merchant_id, FIRST_INVOICE_NUMBER)


async def add_invoice(conn: asyncpg.Connection, invoice: Invoice, follow_up_at: datetime | None,
                      latest_link: bytes | None) -> None:
    await conn.execute(_INSERT_INVOICE, invoice.id, invoice.merchant_id, invoice.order_id, invoice.number,
                       invoice.status, invoice.version, invoice.created_at, follow_up_at, latest_link,
                       dumps(invoice.to_dict()))


async def save_invoice(conn: asyncpg.Connection, invoice: Invoice, loaded_version: int, follow_up_at: datetime | None,
                       latest_link: bytes | None) -> None:
    """Writes the invoice over the version it was loaded at (``latest_link`` None keeps the
    stored one), or raises ConcurrentChange and writes nothing."""
    tag = await conn.execute(_UPDATE_INVOICE, invoice.id, loaded_version, invoice.status, invoice.version,
                             follow_up_at, latest_link, dumps(invoice.to_dict()))
    if tag != "UPDATE 1":
        raise ConcurrentChange(f"invoice {invoice.id} is no longer at version {loaded_version}")


async def add_pay_link(conn: asyncpg.Connection, token_hash: str, invoice_id: str, issued_at: datetime) -> None:
    await conn.execute(_ADD_LINK, token_hash, invoice_id, issued_at)


async def lock_invoice(conn: asyncpg.Connection, invoice_id: str) -> StoredInvoice | None:
    """Loads the invoice and holds its row lock until the transaction ends."""
    return _stored(await conn.fetchrow(_LOCK_INVOICE, invoice_id))


async def get_invoice(db: Executor, merchant_id: str, invoice_id: str) -> StoredInvoice | None:
    """The merchant's invoice (another merchant's is as absent as a missing one)."""
    return _stored(await db.fetchrow(_GET_INVOICE, invoice_id, merchant_id))


async def invoice(db: Executor, invoice_id: str) -> Invoice | None:
    """The invoice as stored, without a lock."""
    doc = await db.fetchval(_INVOICE_DOC, invoice_id)
    return None if doc is None else Invoice.from_dict(orjson.loads(doc))


async def invoice_by_link(db: Executor, token_hash: str) -> StoredInvoice | None:
    """The invoice that handed out the link with this token hash (working or not)."""
    return _stored(await db.fetchrow(_BY_LINK, token_hash))


async def invoices_of_order(conn: asyncpg.Connection, order_id: str) -> list[Invoice]:
    return [Invoice.from_dict(orjson.loads(row["doc"])) for row in await conn.fetch(_INVOICES_OF_ORDER, order_id)]


async def claim_due(conn: asyncpg.Connection, now: datetime) -> StoredInvoice | None:
    """The invoice whose follow-up is due soonest, locked; None when nothing is due (or all
    that is due is being worked on elsewhere)."""
    return _stored(await conn.fetchrow(_CLAIM_DUE, now))


async def set_follow_up(conn: asyncpg.Connection, invoice_id: str, at: datetime | None) -> None:
    await conn.execute(_SET_FOLLOW_UP, invoice_id, at)


def _stored(row: asyncpg.Record | None) -> StoredInvoice | None:
    if row is None:
        return None
    latest = bytes(row["latest_link"]) if row["latest_link"] is not None else None
    return StoredInvoice(Invoice.from_dict(orjson.loads(row["doc"])), latest, row["next_follow_up_at"])


@dataclass(frozen=True)
class InvoiceFilters:
    merchant_id: str
    order_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first list: the (created_at, id) of the last invoice seen."""

    created_at: datetime
    invoice_id: str


async def list_invoices(db: Executor, filters: InvoiceFilters, limit: int, after: Cursor | None) -> list[asyncpg.Record]:
    """Up to ``limit`` invoices, newest first, after ``after``. Rows have doc, latest_link,
    next_follow_up_at, created_at and id."""
    where, args = ["merchant_id = $1"], [filters.merchant_id]

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.order_id is not None:
        where.append(f"order_id = {param(filters.order_id)}")
    if filters.status is not None:
        where.append(f"status = {param(filters.status)}")
    if after is not None:
        where.append(f"(created_at, id) < ({param(after.created_at)}, {param(after.invoice_id)})")
    sql = (f"SELECT {_INVOICE_COLUMNS}, created_at, id FROM invoices WHERE {' AND '.join(where)} "
           f"ORDER BY created_at DESC, id DESC LIMIT {param(limit)}")
    return await db.fetch(sql, *args)


def stored_of(row: asyncpg.Record) -> StoredInvoice:
    stored = _stored(row)
    assert stored is not None
    return stored


# --- payment attempts ---------------------------------------------------------------------------

_ATTEMPTS_MADE = "SELECT count(*) FROM payment_attempts WHERE invoice_id = $1"
_RECORD_ATTEMPT = """
INSERT INTO payment_attempts (payment_id, invoice_id, attempt, outcome, failure_code, processor_reference, card, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_CAPTURED = "SELECT * FROM payment_attempts WHERE invoice_id = $1 AND outcome = 'captured'"


@dataclass(frozen=True)
class Attempt:
    """A payment attempt whose outcome is known."""

    payment_id: str
    invoice_id: str
    attempt: int
    outcome: str
    at: datetime
    failure_code: str | None = None
    processor_reference: str | None = None
    card: str | None = None


async def attempts_made(conn: asyncpg.Connection, invoice_id: str) -> int:
    """How many attempts to pay the invoice have a known outcome."""
    return await conn.fetchval(_ATTEMPTS_MADE, invoice_id)


async def record_attempt(conn: asyncpg.Connection, attempt: Attempt) -> None:
    await conn.execute(_RECORD_ATTEMPT, attempt.payment_id, attempt.invoice_id, attempt.attempt, attempt.outcome,
                       attempt.failure_code, attempt.processor_reference, attempt.card, attempt.at)


async def captured_attempt(db: Executor, invoice_id: str) -> Attempt | None:
    row = await db.fetchrow(_CAPTURED, invoice_id)
    return None if row is None else Attempt(**dict(row))


# --- mail ---------------------------------------------------------------------------------------

_QUEUE_MAIL = """
INSERT INTO mail_outbox (invoice_id, kind, tone, link, written_at) VALUES ($1, $2, $3, $4, $5)
"""
# One message at a time, locked while it is handed to the SMTP server: a second worker skips it.
_CLAIM_MAIL = """
SELECT id, invoice_id, kind, tone, link, written_at, attempts FROM mail_outbox
 WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= now()
 ORDER BY id
 LIMIT 1
 FOR UPDATE SKIP LOCKED
"""
_MAIL_SENT = "UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1"
_MAIL_LATER = """
UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
 WHERE id = $1
"""
_MAIL_GIVEN_UP = "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, given_up_at = now() WHERE id = $1"


@dataclass(frozen=True)
class QueuedMail:
    id: int
    invoice_id: str
    kind: str
    tone: str | None
    link: bytes
    written_at: datetime
    attempts: int


async def queue_mail(conn: asyncpg.Connection, invoice_id: str, kind: str, tone: str | None, link: bytes,
                     written_at: datetime) -> None:
    await conn.execute(_QUEUE_MAIL, invoice_id, kind, tone, link, written_at)


async def claim_mail(conn: asyncpg.Connection) -> QueuedMail | None:
    row = await conn.fetchrow(_CLAIM_MAIL)
    return None if row is None else QueuedMail(**{**dict(row), "link": bytes(row["link"])})


async def mail_sent(conn: asyncpg.Connection, mail_id: int) -> None:
    await conn.execute(_MAIL_SENT, mail_id)


async def mail_later(conn: asyncpg.Connection, mail_id: int, error: str, delay: float) -> None:
    await conn.execute(_MAIL_LATER, mail_id, error[:1000], delay)


async def mail_given_up(conn: asyncpg.Connection, mail_id: int, error: str) -> None:
    await conn.execute(_MAIL_GIVEN_UP, mail_id, error[:1000])
