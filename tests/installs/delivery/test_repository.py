"""The delivery tables on the real PostgreSQL: secrets encrypted at rest, one delivery per
event and endpoint, and the claim that keeps each order's events in order without letting
one order hold up the others."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from flint_contracts.ids import new_id
from flint_contracts.webhooks import new_secret
from flint_installs.delivery import repository
from flint_installs.delivery.model import NewDelivery
from flint_installs.delivery.outcome import AttemptResult, FailureReason
from tests.installs.delivery.store import T0, add_endpoint, queue

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=60)


async def _claim(pool_or_conn, *, now: datetime = T0, limit: int = 100) -> list[str]:
    async def claim(conn: asyncpg.Connection) -> list[str]:
        async with conn.transaction():
            return [c.body.decode() for c in await repository.claim_due(conn, now=now, lease=LEASE, limit=limit)]

    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire() as conn:
            return await claim(conn)
    return await claim(pool_or_conn)


def _ok(at: datetime = T0) -> AttemptResult:
    return AttemptResult(started_at=at, latency_ms=12, status_code=200, response_snippet="ok")


def _failed(at: datetime = T0) -> AttemptResult:
    return AttemptResult(started_at=at, latency_ms=1500, reason=FailureReason.TIMEOUT, detail="no answer within 10s")


async def _attempt(conn: asyncpg.Connection, outcomes: dict[str, tuple[AttemptResult, datetime | None]], *,
                   now: datetime = T0) -> dict[str, datetime | None]:
    """What a worker does: claim what is due (exactly the deliveries named by body), then record
    each one's result and retry time. Returns each endpoint's failing-since after its attempt."""
    async with conn.transaction():
        claimed = await repository.claim_due(conn, now=now, lease=LEASE, limit=100)
    assert sorted(c.body.decode() for c in claimed) == sorted(outcomes)
    failing = {}
    for delivery in claimed:
        result, retry_at = outcomes[delivery.body.decode()]
        failing[delivery.body.decode()] = await repository.record_attempt(conn, delivery, result, retry_at=retry_at,
                                                                          now=now)
    return failing


# ---------------------------------------------------------------- secrets
async def test_secrets_are_stored_encrypted_and_read_back_for_signing(db, sealer):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        secret = new_secret()
        await repository.add_secret(conn, sealer, endpoint.id, secret, now=T0)
        stored = await conn.fetchval("SELECT sealed FROM webhook_endpoint_secrets WHERE endpoint_id = $1", endpoint.id)
        assert secret.encode() not in stored and secret[6:].encode() not in stored
        assert await repository.active_secrets(conn, sealer, endpoint.id, now=T0) == [secret]


async def test_a_sealed_secret_copied_to_another_endpoint_does_not_open(db, sealer):
    async with db.acquire() as conn:
        first, second = await add_endpoint(conn), await add_endpoint(conn)
        await repository.add_secret(conn, sealer, first.id, new_secret(), now=T0)
        await repository.add_secret(conn, sealer, second.id, new_secret(), now=T0)
        await conn.execute("""UPDATE webhook_endpoint_secrets SET sealed = (SELECT sealed FROM webhook_endpoint_secrets
                              WHERE endpoint_id = $1) WHERE endpoint_id = $2""", first.id, second.id)
        with pytest.raises(InvalidTag):
            await repository.active_secrets(conn, sealer, second.id, now=T0)


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(db, sealer):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        old, new = new_secret(), new_secret()
        await repository.add_secret(conn, sealer, endpoint.id, old, now=T0)
        await repository.add_secret(conn, sealer, endpoint.id, new, now=T0 + timedelta(hours=1),
                                    previous_expire_at=T0 + timedelta(hours=25))
        during = await repository.active_secrets(conn, sealer, endpoint.id, now=T0 + timedelta(hours=2))
        after = await repository.active_secrets(conn, sealer, endpoint.id, now=T0 + timedelta(hours=25))
    assert during == [new, old]
    assert after == [new]


# ---------------------------------------------------------------- deliveries and the claim
async def test_an_event_is_queued_once_per_endpoint(db):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        first = await queue(conn, endpoint.id, "ord_a", 1)
        again = NewDelivery(**{**first.__dict__, "id": new_id("dlv")})
        assert not await repository.add_delivery(conn, again)
        assert await _claim(conn) == ['{"n": 1}']


async def test_only_the_oldest_pending_event_of_each_order_is_claimed(db):
    # given two orders with three events each, queued interleaved
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        for n in range(3):
            await queue(conn, endpoint.id, "ord_a", n)
            await queue(conn, endpoint.id, "ord_b", 10 + n)
        # when a worker claims everything it may
        claimed = await _claim(conn)
    # then it gets each order's first event, and nothing behind them
    assert claimed == ['{"n": 0}', '{"n": 10}']


async def test_a_later_event_waits_until_the_earlier_one_is_delivered_or_given_up(db):
    A0, A1, A2, B10, B11 = (f'{{"n": {n}}}' for n in (0, 1, 2, 10, 11))
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        for n in (0, 1, 2):
            await queue(conn, endpoint.id, "ord_a", n)
        for n in (10, 11):
            await queue(conn, endpoint.id, "ord_b", n)
        # when ord_a's first event fails (retry in an hour) and ord_b's is delivered
        await _attempt(conn, {A0: (_failed(), T0 + timedelta(hours=1)), B10: (_ok(), None)})
        # then ord_b goes on while ord_a's later events wait behind the failed one
        await _attempt(conn, {B11: (_ok(), None)}, now=T0 + timedelta(minutes=5))
        assert await _claim(conn, now=T0 + timedelta(minutes=30)) == []
        # when the retry is due and succeeds, ord_a's next event is sent; given up, it lets the last one through
        later = T0 + timedelta(hours=1)
        await _attempt(conn, {A0: (_ok(later), None)}, now=later)
        await _attempt(conn, {A1: (_failed(later), None)}, now=later)
        assert await _claim(conn, now=later) == [A2]
        statuses = await conn.fetch("SELECT status FROM webhook_deliveries WHERE ordering_key = 'ord_a' "
                                    "ORDER BY position")
    assert [r["status"] for r in statuses] == ["delivered", "given_up", "pending"]


async def test_orders_are_independent_per_endpoint(db):
    # given the same order queued for two endpoints, the first endpoint failing
    async with db.acquire() as conn:
        failing, healthy = await add_endpoint(conn), await add_endpoint(conn)
        for endpoint, first in ((failing, 1), (healthy, 101)):
            await queue(conn, endpoint.id, "ord_a", first)
            await queue(conn, endpoint.id, "ord_a", first + 1)
        await _attempt(conn, {'{"n": 1}': (_failed(), T0 + timedelta(hours=1)), '{"n": 101}': (_ok(), None)})
        # then the healthy endpoint gets its next event of the order; the failing one's waits
        assert await _claim(conn, now=T0 + timedelta(minutes=1)) == ['{"n": 102}']


async def test_two_workers_claiming_at_once_never_hold_two_events_of_one_order(db):
    # given three orders of three events each
    async with db.acquire() as setup:
        endpoint = await add_endpoint(setup)
        for order in ("ord_a", "ord_b", "ord_c"):
            for n in range(3):
                await queue(setup, endpoint.id, order, n)
    # when two workers claim one delivery each inside open transactions
    async with db.acquire() as a, db.acquire() as b:
        async with a.transaction():
            got_a = await repository.claim_due(a, now=T0, lease=LEASE, limit=1)
            async with b.transaction():
                got_b = await repository.claim_due(b, now=T0, lease=LEASE, limit=1)
    # then they got the heads of two different orders
    assert len(got_a) == len(got_b) == 1
    assert got_a[0].ordering_key != got_b[0].ordering_key
    assert (got_a[0].body, got_b[0].body) == (b'{"n": 0}', b'{"n": 0}')


async def test_many_workers_claiming_concurrently_each_get_distinct_order_heads(db):
    async with db.acquire() as setup:
        endpoint = await add_endpoint(setup)
        for order in range(12):
            for n in range(4):
                await queue(setup, endpoint.id, f"ord_{order:02}", n)
    results = await asyncio.gather(*(_claim(db, limit=3) for _ in range(4)))
    claimed = [body for result in results for body in result]
    assert claimed.count('{"n": 0}') == len(claimed) == 12  # every order's head once, nothing behind a head


async def test_a_claim_is_leased_so_a_crashed_worker_does_not_lose_the_delivery(db):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        await queue(conn, endpoint.id, "ord_a", 1)
        assert await _claim(conn) == ['{"n": 1}']
        # while the lease runs, nobody else gets it
        assert await _claim(conn, now=T0 + LEASE - timedelta(seconds=1)) == []
        # the worker died without recording anything: after the lease it is due again
        assert await _claim(conn, now=T0 + LEASE) == ['{"n": 1}']


async def test_a_disabled_endpoint_keeps_its_deliveries_and_resumes_when_enabled(db):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        await queue(conn, endpoint.id, "ord_a", 1)
        assert await repository.disable_endpoint(conn, endpoint.id, now=T0, reason="failing for 3 days")
        assert await _claim(conn) == []
        assert not await repository.disable_endpoint(conn, endpoint.id, now=T0, reason="again")
        assert await repository.enable_endpoint(conn, endpoint.id, now=T0)
        assert await _claim(conn) == ['{"n": 1}']


async def test_every_attempt_is_logged_and_the_endpoint_remembers_since_when_it_fails(db):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        delivery = await queue(conn, endpoint.id, "ord_a", 1)
        t1, t2, t3 = T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=5)
        one = '{"n": 1}'
        assert await _attempt(conn, {one: (_failed(t1), t2)}, now=t1) == {one: t1}
        assert await _attempt(conn, {one: (_failed(t2), t3)}, now=t2) == {one: t1}  # still since the first
        assert await _attempt(conn, {one: (_ok(t3), None)}, now=t3) == {one: None}  # a success clears it
        log = await repository.attempts(conn, delivery.id)
        status = await repository.delivery_status(conn, delivery.id)
    assert [(a.number, a.outcome, a.reason, a.status_code) for a in log] == [
        (1, "failed", "timeout", None), (2, "failed", "timeout", None), (3, "delivered", None, 200)]
    assert log[0].detail == "no answer within 10s" and log[2].response_snippet == "ok"
    assert status[:2] == ("delivered", 3)


async def test_a_retry_by_hand_makes_a_finished_delivery_due_again(db):
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        delivery = await queue(conn, endpoint.id, "ord_a", 1)
        await _attempt(conn, {'{"n": 1}': (_failed(), None)})
        assert (await repository.delivery_status(conn, delivery.id))[0] == "given_up"
        assert await repository.retry_now(conn, delivery.id, now=T0 + timedelta(days=5))
        assert await _claim(conn, now=T0 + timedelta(days=5)) == ['{"n": 1}']
        assert not await repository.retry_now(conn, new_id("dlv"), now=T0)


async def test_an_attempt_on_a_delivery_deleted_meanwhile_is_dropped_quietly(db):
    # given a delivery claimed by a worker, whose endpoint is then deleted
    async with db.acquire() as conn:
        endpoint = await add_endpoint(conn)
        delivery = await queue(conn, endpoint.id, "ord_a", 1)
        async with conn.transaction():
            [claimed] = await repository.claim_due(conn, now=T0, lease=LEASE, limit=10)
        await conn.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint.id)
        # when the worker records its attempt
        failing_since = await repository.record_attempt(conn, claimed, _failed(), retry_at=None, now=T0)
        # then nothing is recorded and nothing fails
        assert failing_since is None
        assert await repository.attempts(conn, delivery.id) == []
