"""A tiny service used to exercise the chassis end to end: each ``payment.captured`` adds to
its order's balance (the "account" is the order id). Its effect is easy to see, so a lost or
doubled event shows at once. How the handler behaves for an account is steered by tables:
blocked (a permanent refusal), unopened (not yet: retry later), broken (a bug), plus
``HOLD`` to make the handler wait (a stalled consumer)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from flint_chassis.consumer import Event, PermanentError, RetryLater, Subscription
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import PaymentCaptured, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money

MERCHANT = "mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K"
SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    account text PRIMARY KEY,
    balance integer NOT NULL,  -- int4: a huge amount is a database data error
    entries integer NOT NULL,
    last_reference text
);
CREATE TABLE IF NOT EXISTS ledger_applied (account text, event_id text, at timestamptz DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS ledger_notes (event_id text, reason text);
CREATE TABLE IF NOT EXISTS ledger_blocked (account text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS ledger_unopened (account text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS ledger_broken (account text PRIMARY KEY);
"""
HOLD: dict[str, asyncio.Event] = {}
"""Accounts whose deposits wait until their event is set."""


def account() -> str:
    return new_id("ord")


def deposit(account: str, amount: int, *, reference: str = "ref-1", event_id: str | None = None) -> EventEnvelope:
    data = PaymentCaptured(payment_id=new_id("pay"), order_id=account, amount=Money(amount=amount, currency="EUR"),
                           method="card", processor="sandbox", processor_reference=reference,
                           captured_at=datetime.now(UTC))
    fields = {"id": event_id} if event_id else {}
    return build_envelope(types.PAYMENT_CAPTURED, data, source="tests", merchant_id=MERCHANT, **fields)


async def note_dead_letter(conn: asyncpg.Connection, event: EventEnvelope, reason: str) -> None:
    await conn.execute("INSERT INTO ledger_notes VALUES ($1, $2)", event.id, reason)


def subscription(name: str, topic: str) -> Subscription:
    """A subscription to ``topic`` whose ``payment.captured`` handler is ``apply_deposit``."""
    deposits = Subscription(name, topic, on_dead_letter=note_dead_letter)
    deposits.on(types.PAYMENT_CAPTURED)(apply_deposit)
    return deposits


async def apply_deposit(conn: asyncpg.Connection, event: Event[PaymentCaptured]) -> None:
    payment = event.data
    if payment.order_id in HOLD:
        await HOLD[payment.order_id].wait()
    if await _listed(conn, "ledger_unopened", payment.order_id):
        raise RetryLater("account is not opened yet", code="account_unknown")
    if await _listed(conn, "ledger_broken", payment.order_id):
        raise RuntimeError("handler bug: cannot process this deposit")
    if await _listed(conn, "ledger_blocked", payment.order_id):
        raise PermanentError("account is blocked", code="account_blocked")
    await conn.execute(
        """INSERT INTO ledger (account, balance, entries, last_reference) VALUES ($1, $2, 1, $3)
           ON CONFLICT (account) DO UPDATE
           SET balance = ledger.balance + $2, entries = ledger.entries + 1, last_reference = $3""",
        payment.order_id, payment.amount.amount, payment.processor_reference,
    )
    await conn.execute("INSERT INTO ledger_applied (account, event_id) VALUES ($1, $2)", payment.order_id, event.id)


async def _listed(conn: asyncpg.Connection, table: str, account: str) -> bool:
    return await conn.fetchval(f"SELECT 1 FROM {table} WHERE account = $1", account) is not None


async def balance(pool: asyncpg.Pool, account: str) -> tuple[int, int] | None:
    row = await pool.fetchrow("SELECT balance, entries FROM ledger WHERE account = $1", account)
    return (row["balance"], row["entries"]) if row else None


async def applied(pool: asyncpg.Pool, account: str) -> list[str]:
    """Event ids applied to ``account``, in the order they were applied."""
    return [r["event_id"] for r in await pool.fetch(
        "SELECT event_id FROM ledger_applied WHERE account = $1 ORDER BY at", account)]
