"""``Idempotency-Key`` on ``POST /v1/refunds``: a replayed request returns the first response,
byte for byte, and creates nothing new: no second refund, no second event, no money moved twice."""

from __future__ import annotations

import asyncio

import pytest

from flint_contracts.ids import new_id
from tests.orders.service import eur
from tests.refunds.service import RefundsService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def counts(refunds: RefundsService, order_id: str, charge: str) -> tuple[int, int, int]:
    stored = await refunds.pool.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", order_id)
    events = await refunds.pool.fetchval("SELECT count(*) FROM flint_outbox WHERE key = $1::text::bytea", order_id)
    return stored, events, len(await refunds.ledger_refunds(charge))


async def test_a_replayed_refund_returns_the_first_answer_and_creates_nothing(refunds: RefundsService):
    # given a refund made with a key
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    token, key = refunds.app_token(merchant), {"Idempotency-Key": f"mugs-{new_id('evt')}"}
    body = {"order_id": order["id"], "reason": "goodwill", "amount": eur(500)}
    first = await refunds.refund(token, body, headers=key)
    assert (first.status_code, first.json()["status"]) == (201, "succeeded")
    before = await counts(refunds, order["id"], payment["processor_reference"])
    assert before == (1, 2, 1)  # the refund, refund.created and refund.succeeded, one refund on the processor

    # when the same request comes again (the body's keys in another order: the same request)
    again = await refunds.refund(token, {"amount": eur(500), "reason": "goodwill", "order_id": order["id"]}, headers=key)

    # then it is the first answer, and nothing new exists
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"] == f"/v1/refunds/{first.json()['id']}"
    assert await counts(refunds, order["id"], payment["processor_reference"]) == before


async def test_concurrent_requests_with_one_key_create_one_refund(refunds: RefundsService):
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    token, key = refunds.app_token(merchant), {"Idempotency-Key": f"mugs-{new_id('evt')}"}
    body = {"order_id": order["id"], "reason": "goodwill", "amount": eur(500)}

    answers = await asyncio.gather(*(refunds.refund(token, body, headers=key) for _ in range(5)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await counts(refunds, order["id"], payment["processor_reference"]))[::2] == (1, 1)


async def test_a_replay_returns_what_the_first_request_answered_even_after_the_refund_moved_on(refunds: RefundsService):
    # given a refund whose first answer was `pending` (the processor did not answer in time)
    merchant = new_id("mer")
    order, _ = await refunds.paid_order(merchant)
    await refunds.nothing_pending()
    await refunds.sandbox.faults.inject("refund", "unavailable")
    token, key = refunds.app_token(merchant), {"Idempotency-Key": f"mugs-{new_id('evt')}"}
    body = {"order_id": order["id"], "reason": "goodwill", "amount": eur(500)}
    first = await refunds.refund(token, body, headers=key)
    assert first.json()["status"] == "pending"
    settled = await refunds.settled(merchant, first.json()["id"])
    assert settled["status"] == "succeeded"

    # when the request is replayed, then it gets the first answer; the refund itself is read with GET
    again = await refunds.refund(token, body, headers=key)
    assert (again.content, again.headers["idempotent-replayed"]) == (first.content, "true")
