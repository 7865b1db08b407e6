"""A tiny service used to exercise the chassis end to end: each ``deposit`` event adds to an
account's balance. Its effect is easy to see, so a lost or doubled event shows at once."""

from __future__ import annotations

import asyncpg

from flint_chassis.errors import PermanentError, RetryLater
from flint_contracts.envelope import EventEnvelope

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    account text PRIMARY KEY,
    balance bigint NOT NULL,
    entries integer NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_notes (event_id text, reason text);
CREATE TABLE IF NOT EXISTS ledger_blocked (account text PRIMARY KEY);
"""


def deposit(account: str, amount: int, **fields) -> EventEnvelope:
    return EventEnvelope(type="ledger.deposit", source="tests", subject=account,
                         data={"account": account, "amount": amount, **fields})


async def apply_deposit(conn: asyncpg.Connection, event: EventEnvelope) -> None:
    if event.data.get("later"):
        raise RetryLater("account is not opened yet", code="account_unknown")
    if event.data.get("explode"):
        raise RuntimeError("handler bug: cannot process this deposit")
    if await conn.fetchval("SELECT 1 FROM ledger_blocked WHERE account = $1", event.data.get("account")):
        raise PermanentError("account is blocked", code="account_blocked")
    if not isinstance(event.data.get("amount"), int):
        raise PermanentError("amount must be an integer number of minor units", code="invalid_amount")
    await conn.execute(
        """INSERT INTO ledger (account, balance, entries) VALUES ($1, $2, 1)
           ON CONFLICT (account) DO UPDATE SET balance = ledger.balance + $2, entries = ledger.entries + 1""",
        event.data["account"], event.data["amount"],
    )


async def note_dead_letter(conn: asyncpg.Connection, event: EventEnvelope, reason: str) -> None:
    await conn.execute("INSERT INTO ledger_notes VALUES ($1, $2)", event.id, reason)


async def balance(pool: asyncpg.Pool, account: str) -> tuple[int, int] | None:
    row = await pool.fetchrow("SELECT balance, entries FROM ledger WHERE account = $1", account)
    return (row["balance"], row["entries"]) if row else None
