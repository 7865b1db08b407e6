"""Rate limits per token: every answer says how much budget is left, an empty bucket is a
429 with Retry-After, and one token's burst does not slow another token down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flint_chassis.http.ratelimit import READ, WRITE, Rate, TokenBuckets
from flint_contracts.ids import new_id
from tests.orders.service import OrdersService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def small_buckets(orders: OrdersService) -> Iterator[TokenBuckets]:
    """The service's buckets, made small for the test (the app reads them per request)."""
    usual = orders.app.state.rate_limits
    buckets = TokenBuckets({READ: Rate(per_second=0.01, burst=3), WRITE: Rate(per_second=0.01, burst=2)})
    orders.app.state.rate_limits = buckets
    try:
        yield buckets
    finally:
        orders.app.state.rate_limits = usual


async def test_a_token_that_spends_its_budget_gets_429_with_retry_after(orders: OrdersService, small_buckets):
    # given an order and a token whose reads allow a burst of 3
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    token = orders.merchant_token(merchant, "orders:read")
    # when it reads four times (the first through the route, then the fast path)
    answers = [await orders.call("GET", f"/v1/orders/{order['id']}", token) for _ in range(4)]
    # then each answer says what is left, and the fourth is refused until the bucket refills
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    assert int(refused.headers["ratelimit-reset"]) >= int(refused.headers["retry-after"])
    # and another token of the same merchant still reads
    other = await orders.call("GET", f"/v1/orders/{order['id']}", orders.merchant_token(merchant, "orders:read"))
    assert other.status_code == 200 and other.headers["ratelimit-remaining"] == "2"


async def test_writes_have_their_own_budget_and_health_is_never_limited(orders: OrdersService, small_buckets):
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    token = orders.merchant_token(merchant)
    reads = [await orders.call("GET", "/v1/orders", token) for _ in range(4)]
    writes = [await orders.call("PUT", f"/v1/orders/{order['id']}/tags/t{i}", token) for i in range(3)]
    health = [await orders.client.get("/healthz") for _ in range(10)]
    assert [r.status_code for r in reads] == [200, 200, 200, 429]
    assert [w.status_code for w in writes] == [200, 200, 429]
    assert all(h.status_code == 200 and "ratelimit-limit" not in h.headers for h in health)
    # the refused write changed nothing
    assert (await orders.get_order(merchant, order["id"]))["tags"] == ["t0", "t1"]
