"""The router's transaction on the real PostgreSQL (the Kafka side is in test_delivery_end_to_end):
what one event leaves behind for each install it goes to, that a redelivered event adds
nothing, and that an uninstall stops routing at once, even against a routing transaction in
progress."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import orjson
import pytest

from flint_chassis import outbox
from flint_chassis.wire import decode_headers
from flint_contracts import event_types as types
from flint_contracts.events import build_envelope
from flint_contracts.topics import app_topic
from flint_installs import handlers
from flint_installs.delivery.model import DISABLED
from flint_installs.delivery.repository import WAKE_CHANNEL
from flint_installs.delivery.router import route_event
from tests.contracts import contract_samples as make
from tests.installs.delivery import events
from tests.installs.delivery.store import T0, add_merchant, endpoint_of, install_app
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

LATER = T0 + timedelta(hours=1)


async def _outbox(conn: asyncpg.Connection, topic: str) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT event_id, key, payload, headers, published_at FROM flint_outbox "
                            "WHERE topic = $1 ORDER BY position", topic)


async def _feed(conn: asyncpg.Connection, install_id: str) -> list[tuple[int, str]]:
    rows = await conn.fetch("SELECT position, event_id FROM app_events WHERE install_id = $1 ORDER BY position",
                            install_id)
    return [(r["position"], r["event_id"]) for r in rows]


async def _deliveries(conn: asyncpg.Connection, endpoint_id: str) -> list[tuple[str, str, bytes]]:
    rows = await conn.fetch("SELECT event_id, ordering_key, body FROM webhook_deliveries WHERE endpoint_id = $1 "
                            "ORDER BY position", endpoint_id)
    return [(r["event_id"], r["ordering_key"], bytes(r["body"])) for r in rows]


async def _waiting_for_a_lock(pool: asyncpg.Pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'") > 0


async def _route(pool: asyncpg.Pool, event, raw: bytes | None = None) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await route_event(conn, event, raw if raw is not None else event.to_bytes(), now=LATER)


async def test_an_event_goes_byte_for_byte_to_each_allowed_apps_topic_feed_and_enabled_endpoints(db):
    # given a merchant with two apps (one may read orders, one only refunds) and another merchant's app
    async with db.acquire() as conn:
        merchant, stranger = await add_merchant(conn), await add_merchant(conn)
        reader = await install_app(conn, merchant, ("orders:read",))
        refunds_only = await install_app(conn, merchant, ("refunds:read",))
        elsewhere = await install_app(conn, stranger, ("orders:read",))
        enabled = await endpoint_of(conn, reader.install_id)
        disabled = await endpoint_of(conn, reader.install_id, status=DISABLED)
    # when an order event of the merchant is routed, with its bytes as the orders topic held them
    event = events.order_event(merchant_id=merchant, time=LATER)
    raw = b" " + event.to_bytes()  # not what re-encoding would give: the bytes must pass unchanged
    assert await _route(db, event, raw) == 1
    async with db.acquire() as conn:
        # then the reading app's topic gets it: same id, same bytes, keyed by the order
        [row] = await _outbox(conn, app_topic(reader.app_id))
        assert (row["event_id"], row["key"], bytes(row["payload"])) == (
            f"{event.id}@{reader.app_id}", event.subject.encode(), raw)
        headers = dict(decode_headers(row["headers"]))
        assert headers["flint-event-id"] == event.id.encode() and headers["flint-event-type"] == b"order.created"
        # and its feed, and one delivery for its enabled endpoint only
        assert await _feed(conn, reader.install_id) == [(1, event.id)]
        assert await _deliveries(conn, enabled) == [(event.id, event.subject, raw)]
        assert await _deliveries(conn, disabled) == []
        # and nothing reaches the app without the scope, nor the other merchant's app
        for other in (refunds_only, elsewhere):
            assert await _outbox(conn, app_topic(other.app_id)) == []
            assert await _feed(conn, other.install_id) == []


async def test_an_event_routed_twice_is_delivered_once(db):
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        app = await install_app(conn, merchant)
        endpoint = await endpoint_of(conn, app.install_id)
    event = events.order_event(merchant_id=merchant, time=LATER)
    await _route(db, event)
    await _route(db, event)  # an operator replayed it from a dead-letter topic
    async with db.acquire() as conn:
        assert len(await _outbox(conn, app_topic(app.app_id))) == 1
        assert await _feed(conn, app.install_id) == [(1, event.id)]
        assert len(await _deliveries(conn, endpoint)) == 1


async def _woken_by(pool: asyncpg.Pool, route) -> set[str]:
    """Which of the webhook sender's and the outbox relay's channels ``route`` notified."""
    heard: set[str] = set()

    def notified(_connection, _pid, channel: str, _payload) -> None:
        heard.add(channel)

    channels = (WAKE_CHANNEL, outbox.NOTIFY_CHANNEL)
    async with pool.acquire() as listener:
        for channel in channels:
            await listener.add_listener(channel, notified)
        try:
            await route()
            await asyncio.sleep(0.3)  # notifications arrive after the commit
        finally:
            for channel in channels:
                await listener.remove_listener(channel, notified)
    return heard


async def test_routing_wakes_the_sender_only_for_queued_deliveries_and_the_relay_only_for_new_rows(db):
    # given a merchant with an app that has two endpoints and an app that has none
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        hooked, topic_only = await install_app(conn, merchant), await install_app(conn, merchant)
        endpoints = sorted([await endpoint_of(conn, hooked.install_id), await endpoint_of(conn, hooked.install_id)])
    first, second = (events.order_event(merchant_id=merchant, time=LATER) for _ in range(2))
    # when an event is routed: both apps' topics get it, and both endpoints a delivery
    assert await _woken_by(db, lambda: _route(db, first)) == {WAKE_CHANNEL, outbox.NOTIFY_CHANNEL}
    async with db.acquire() as conn:
        for endpoint in endpoints:
            assert [d[0] for d in await _deliveries(conn, endpoint)] == [first.id]
    # when it is routed again (a replay): nothing is written and nobody is woken
    assert await _woken_by(db, lambda: _route(db, first)) == set()
    # when the endpoints are disabled, the next event still reaches the topics; the sender sleeps on
    async with db.acquire() as conn:
        await conn.execute("UPDATE webhook_endpoints SET status = $2 WHERE id = ANY($1::text[])", endpoints, DISABLED)
    assert await _woken_by(db, lambda: _route(db, second)) == {outbox.NOTIFY_CHANNEL}
    async with db.acquire() as conn:
        for app in (hooked, topic_only):
            assert [r["event_id"] for r in await _outbox(conn, app_topic(app.app_id))] == [
                f"{first.id}@{app.app_id}", f"{second.id}@{app.app_id}"]


async def test_the_feed_numbers_an_installs_events_in_routing_order(db):
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        app = await install_app(conn, merchant, ("orders:read", "refunds:read"))
    routed = [events.order_event(merchant_id=merchant, time=LATER),
              events.refund_event(types.REFUND_CREATED, merchant_id=merchant, time=LATER),
              events.order_event(types.ORDER_NOTE_ADDED, merchant_id=merchant, version=2, time=LATER)]
    for event in routed:
        await _route(db, event)
    async with db.acquire() as conn:
        assert await _feed(conn, app.install_id) == [(n + 1, e.id) for n, e in enumerate(routed)]


async def test_uninstall_withdraws_what_is_not_on_the_topic_yet_and_nothing_more_is_routed(db):
    # given two events routed to an app, the first already published
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        app = await install_app(conn, merchant)
    first, second = (events.order_event(merchant_id=merchant, time=LATER) for _ in range(2))
    await _route(db, first)
    await db.execute("UPDATE flint_outbox SET published_at = now() WHERE event_id = $1", f"{first.id}@{app.app_id}")
    await _route(db, second)
    # when the merchant uninstalls the app
    async with db.acquire() as conn, conn.transaction():
        await handlers.uninstall(conn, merchant_id=merchant, install_id=app.install_id)
    # then the unpublished event is taken back, from the outbox and the feed alike
    async with db.acquire() as conn:
        assert [r["event_id"] for r in await _outbox(conn, app_topic(app.app_id))] == [f"{first.id}@{app.app_id}"]
        assert await _feed(conn, app.install_id) == [(1, first.id)]
    # and a later event goes nowhere
    assert await _route(db, events.order_event(merchant_id=merchant, time=LATER)) == 0


async def test_an_uninstall_waits_for_a_routing_transaction_in_progress_and_takes_its_event_back(db):
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        app = await install_app(conn, merchant)
    event = events.order_event(merchant_id=merchant, time=LATER)
    async with db.acquire() as routing, db.acquire() as uninstalling:
        # given a routing transaction that has routed the event but not committed yet
        transaction = routing.transaction()
        await transaction.start()
        assert await route_event(routing, event, event.to_bytes(), now=LATER) == 1

        async def uninstall() -> None:
            async with uninstalling.transaction():
                await handlers.uninstall(uninstalling, merchant_id=merchant, install_id=app.install_id)

        # when the merchant uninstalls meanwhile, it waits for the router
        task = asyncio.create_task(uninstall())
        await eventually(lambda: _waiting_for_a_lock(db), timeout=10, message="the uninstall to wait for the router")
        assert not task.done()
        await transaction.commit()
        await asyncio.wait_for(task, 10)
    # then what the router committed was withdrawn before it could be published
    async with db.acquire() as conn:
        assert await _outbox(conn, app_topic(app.app_id)) == []
        assert await _feed(conn, app.install_id) == []
        status = await conn.fetchval("SELECT status FROM installs WHERE id = $1", app.install_id)
    assert status == "uninstalled"


async def test_an_install_event_reaches_its_own_app_only(db):
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        mine = await install_app(conn, merchant, ("refunds:write",))
        other = await install_app(conn, merchant, ("orders:read",))
        install = await conn.fetchrow("SELECT * FROM installs WHERE id = $1", mine.install_id)
    data = make.install(install_id=mine.install_id, app_id=mine.app_id, merchant_id=merchant,
                               scopes=["refunds:write"], occurred_at=LATER)
    event = build_envelope(types.INSTALL_SCOPES_UPDATED, data, source="flint.installs", time=LATER)
    assert install["status"] == "active" and await _route(db, event) == 1
    async with db.acquire() as conn:
        payload = [orjson.loads(r["payload"])["id"] for r in await _outbox(conn, app_topic(mine.app_id))]
        assert payload == [event.id]
        assert await _outbox(conn, app_topic(other.app_id)) == []
