"""``outbox.with_change``: a change and its events in one statement. The events land in the
outbox exactly as ``outbox.enqueue`` would write them, in order, and only when the change
wrote; the relay is notified only then."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from flint_chassis import outbox
from flint_chassis.wire import decode_headers
from tests.chassis import ledger

pytestmark = pytest.mark.integration

_TABLE = "CREATE TABLE IF NOT EXISTS with_change_accounts (id text PRIMARY KEY)"
_CHANGE = outbox.with_change(
    "opened AS (INSERT INTO with_change_accounts VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING 1)",
    changed="opened", first_param=2)


async def _outbox_rows(pool: asyncpg.Pool, ids: list[str]) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT position, event_id, topic, key, payload, headers::text AS headers FROM flint_outbox "
                            "WHERE event_id = ANY($1::text[]) ORDER BY position", ids)


async def _notified_while(pool: asyncpg.Pool, write) -> bool:
    """Whether the relay's channel was notified while ``write`` committed."""
    heard = asyncio.Event()

    def notified(*_: object) -> None:
        heard.set()

    async with pool.acquire() as listener:
        await listener.add_listener(outbox.NOTIFY_CHANNEL, notified)
        try:
            await write()
            try:
                await asyncio.wait_for(heard.wait(), timeout=1.0)
            except TimeoutError:
                return False
            return True
        finally:
            await listener.remove_listener(outbox.NOTIFY_CHANNEL, notified)


async def test_the_events_are_written_with_the_change_as_enqueue_writes_them(pool: asyncpg.Pool):
    await pool.execute(_TABLE)
    account = ledger.account()
    events = [ledger.deposit(account, 100), ledger.deposit(account, 200), ledger.deposit(account, 300)]
    staged = outbox.Staged("test.with-change", events)

    async def write() -> None:
        async with pool.acquire() as conn, conn.transaction():
            assert await conn.fetchrow(_CHANGE, account, *staged.columns()) is not None

    assert await _notified_while(pool, write)
    rows = await _outbox_rows(pool, [e.id for e in events])
    # in the order staged, each as outbox.enqueue writes it: keyed by subject, headers for routing
    assert [r["event_id"] for r in rows] == [e.id for e in events]
    for row, event in zip(rows, events, strict=True):
        assert row["topic"] == "test.with-change" and bytes(row["key"]) == event.subject.encode()
        assert bytes(row["payload"]) == event.to_bytes()
        assert decode_headers(row["headers"]) == [(k, v.encode()) for k, v in outbox.event_headers(event)]


async def test_nothing_is_queued_or_notified_when_the_change_wrote_nothing(pool: asyncpg.Pool):
    await pool.execute(_TABLE)
    account = ledger.account()
    await pool.execute("INSERT INTO with_change_accounts VALUES ($1)", account)  # the change will find it there
    events = [ledger.deposit(account, 100)]

    async def write() -> None:
        async with pool.acquire() as conn, conn.transaction():
            assert await conn.fetchrow(_CHANGE, account, *outbox.Staged("test.with-change", events).columns()) is None

    assert not await _notified_while(pool, write)
    assert await _outbox_rows(pool, [e.id for e in events]) == []


async def test_raw_messages_are_written_as_enqueue_raw_writes_them(pool: asyncpg.Pool):
    await pool.execute(_TABLE)
    account = ledger.account()
    key, payload = b"\xff\x00key", b"\x00not json\xfe"  # any bytes, as a dead letter carries them
    headers = [("flint-event-id", "x"), ("odd", b"\xff\xfe")]
    staged = outbox.StagedRaw("test.with-change", [(f"{account}@raw", key, payload, headers)])
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(_CHANGE, account, *staged.columns())
        assert row is not None
        await outbox.enqueue_raw(conn, "test.with-change", f"{account}@enqueued", key, payload, headers)
    staged_row, enqueued_row = await _outbox_rows(pool, [f"{account}@raw", f"{account}@enqueued"])
    for column in ("topic", "key", "payload", "headers"):
        assert staged_row[column] == enqueued_row[column], column
    assert decode_headers(staged_row["headers"]) == [("flint-event-id", b"x"), ("odd", b"\xff\xfe")]
