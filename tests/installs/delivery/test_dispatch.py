"""Rounds of delivery against a real receiver and the real PostgreSQL: an outage and a
recovery, giving up after the window, and disabling an endpoint that never succeeds.

Time is a test clock moved by hand, so three days of retries take a few rounds; every
request still goes over a real socket to the receiver."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg
import pytest

from flint_contracts.webhooks import new_secret
from flint_installs.delivery import repository
from flint_installs.delivery.dispatch import Dispatcher
from flint_installs.delivery.sender import WebhookSender
from flint_sdk import verify
from tests.installs.delivery.conftest import dev_settings
from tests.installs.delivery.store import T0, add_endpoint, queue

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def _endpoint_with_secret(db: asyncpg.Pool, sealer, url: str) -> tuple[str, str]:
    secret = new_secret()
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn, url)
        await repository.add_secret(conn, sealer, endpoint.id, secret, now=T0)
    return endpoint.id, secret


async def _statuses(db: asyncpg.Pool, endpoint_id: str) -> list[tuple[str, int]]:
    rows = await db.fetch("SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY position",
                          endpoint_id)
    return [(r["status"], r["attempts"]) for r in rows]


async def test_through_a_receiver_outage_every_event_arrives_once_and_in_order_per_order(db, sealer, receiver):
    # given three orders with four events each, queued interleaved, for a receiver that is down
    endpoint_id, secret = await _endpoint_with_secret(db, sealer, receiver.url("/flaky"))
    async with db.acquire() as conn:
        for n in range(4):
            for order in range(3):
                await queue(conn, endpoint_id, f"ord_{order}", 10 * order + n)
    receiver.down = True
    clock, settings = Clock(T0), dev_settings()
    async with WebhookSender(settings) as sender:
        dispatcher = Dispatcher(db, sender, sealer, settings, clock=clock, rng=random.Random(5))
        # when three rounds fail, hours apart
        for _ in range(3):
            assert await dispatcher.deliver_due() == 3
            clock.advance(hours=6)
        # then only the first event of each order was tried
        assert sorted(json.loads(r.body)["n"] for r in receiver.requests) == [0, 0, 0, 10, 10, 10, 20, 20, 20]
        # when the receiver is back
        receiver.down = False
        for _ in range(10):
            if not await dispatcher.deliver_due():
                break
            clock.advance(hours=6)
    # then every event arrived exactly once, each order's in sequence, each signed
    arrived = [json.loads(r.body)["n"] for r in receiver.accepted]
    assert sorted(arrived) == sorted(10 * order + n for order in range(3) for n in range(4))
    by_order = defaultdict(list)
    for n in arrived:
        by_order[n // 10].append(n)
    assert all(ns == sorted(ns) for ns in by_order.values())
    assert all(verify(r.body, r.headers["flint-signature"], secret) for r in receiver.accepted)
    # and a retried event kept its event id and delivery id on every attempt
    first = [r for r in receiver.requests if json.loads(r.body)["n"] == 0]
    assert len(first) == 4
    assert len({r.headers["flint-event-id"] for r in first}) == 1
    assert len({r.headers["flint-delivery-id"] for r in first}) == 1
    assert await _statuses(db, endpoint_id) == [("delivered", 4)] * 3 + [("delivered", 1)] * 9


async def test_a_delivery_failing_past_the_window_is_given_up_and_the_next_event_of_its_order_goes(
        db, sealer, receiver):
    # given a window of one hour and a receiver that fails event 1 of the order but not event 2
    endpoint_id, _ = await _endpoint_with_secret(db, sealer, receiver.url("/flaky"))
    async with db.acquire() as conn:
        await queue(conn, endpoint_id, "ord_a", 1)
        await queue(conn, endpoint_id, "ord_a", 2, at=T0 + timedelta(hours=2))
    clock, settings = Clock(T0), dev_settings(retry_window=3600)
    receiver.down = True
    async with WebhookSender(settings) as sender:
        dispatcher = Dispatcher(db, sender, sealer, settings, clock=clock, rng=random.Random(1))
        assert await dispatcher.deliver_due() == 1  # fails, retried within the hour
        clock.advance(hours=2)
        assert await dispatcher.deliver_due() == 1  # fails past the window: given up
        receiver.down = False
        assert await dispatcher.deliver_due() == 1  # the next event of the order is no longer held
    assert await _statuses(db, endpoint_id) == [("given_up", 2), ("delivered", 1)]
    assert [json.loads(r.body)["n"] for r in receiver.accepted] == [2]


async def test_an_endpoint_failing_for_the_whole_period_is_disabled_and_notified_once(db, sealer, receiver):
    # given an endpoint disabled after one hour of failures, and a hook for the notification
    endpoint_id, _ = await _endpoint_with_secret(db, sealer, receiver.url("/error"))
    async with db.acquire() as conn:
        for n in range(2):
            await queue(conn, endpoint_id, f"ord_{n}", n)
    notified = []

    async def on_disabled(conn: asyncpg.Connection, disabled_id: str, at: datetime) -> None:
        notified.append((disabled_id, at, conn.is_in_transaction()))

    clock, settings = Clock(T0), dev_settings(disable_after=3600)
    async with WebhookSender(settings) as sender:
        dispatcher = Dispatcher(db, sender, sealer, settings, on_disabled=on_disabled, clock=clock,
                                rng=random.Random(2))
        assert await dispatcher.deliver_due() == 2
        clock.advance(minutes=30)
        assert await dispatcher.deliver_due() == 2
        assert notified == []  # failing for 30 minutes only
        clock.advance(minutes=31)
        assert await dispatcher.deliver_due() == 2  # both fail again: past the hour
        disabled_at = clock.now
        clock.advance(hours=6)
        # then the endpoint is disabled once, its deliveries kept but no longer sent
        assert await dispatcher.deliver_due() == 0
    assert notified == [(endpoint_id, disabled_at, True)]
    async with db.acquire() as conn:
        endpoint = await repository.get_endpoint(conn, endpoint_id)
    assert (endpoint.status, endpoint.disabled_at) == ("disabled", disabled_at)
    assert endpoint.disabled_reason == f"every attempt failed since {T0.isoformat()}"
    assert await _statuses(db, endpoint_id) == [("pending", 3), ("pending", 3)]
