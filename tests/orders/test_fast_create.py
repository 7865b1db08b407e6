"""A merchant's backend creates orders with the same token, one after the other. From the
token's second request on, ``POST /v1/orders`` is answered by the fast path
(``flint_orders.fast_create``) instead of the FastAPI route. Each test sends the same
request twice with one token, first through the route, then through the fast path, and
expects the same answer: a client cannot tell which one answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flint_chassis.http.ratelimit import READ, WRITE, Rate, TokenBuckets
from flint_contracts.event_types import ORDER_CREATED
from flint_contracts.ids import is_id, new_id
from tests.orders.service import OrdersService, eur, order_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# Headers whose values differ from one request to the next by nature.
_PER_REQUEST = {"date", "x-correlation-id", "location", "content-length", "ratelimit-remaining", "ratelimit-reset",
                "traceparent"}


def _shape(response) -> tuple:
    """What a client sees of an answer, without what differs per request by nature."""
    body = response.json()
    fields = body.get("code") or sorted(body)
    return response.status_code, response.headers["content-type"], fields, sorted(set(response.headers) - _PER_REQUEST)


@pytest.fixture
def slow_refill(orders: OrdersService) -> Iterator[None]:
    """Buckets that refill one request per 100 s: with the usual 50 per second, a request
    that took 20 ms was given back before the next one, and "charged once per request" could
    not be seen in RateLimit-Remaining."""
    usual = orders.app.state.rate_limits
    orders.app.state.rate_limits = TokenBuckets({READ: Rate(per_second=0.01, burst=200),
                                                 WRITE: Rate(per_second=0.01, burst=100)})
    try:
        yield
    finally:
        orders.app.state.rate_limits = usual


async def _twice(orders: OrdersService, token: str, body: dict, headers: dict | None = None) -> list:
    return [await orders.call("POST", "/v1/orders", token, json=body, headers=headers or {}) for _ in range(2)]


async def test_a_create_answers_the_same_from_the_route_and_the_fast_path(orders: OrdersService, slow_refill):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    first, second = await _twice(orders, token, order_body(note="leave at the door", tags=["vip"]))
    assert _shape(first) == _shape(second)
    assert first.status_code == 201
    created = [first.json(), second.json()]
    # numbered one after the other, each at its own Location, each with its note and tag
    assert [o["number"] for o in created] == [created[0]["number"], created[0]["number"] + 1]
    assert [r.headers["location"] for r in (first, second)] == [f"/v1/orders/{o['id']}" for o in created]
    assert all(is_id(o["id"], "ord") and o["tags"] == ["vip"] and o["totals"]["total"] == eur(2880) for o in created)
    # the token's write budget was charged once per request
    assert [r.headers["ratelimit-remaining"] for r in (first, second)] == ["99", "98"]
    # the stored record is what the answer showed, and each order's events went out
    for order in created:
        assert await orders.get_order(merchant, order["id"]) == order
        events = await orders.order_events(order["id"], 2)
        assert [e["type"] for e in events][:1] == [ORDER_CREATED]
        assert events[0]["data"]["order"]["number"] == order["number"]


async def test_a_refusal_of_the_domain_answers_the_same_and_stores_nothing(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    first, second = await _twice(orders, token, order_body(total=eur(9999)))
    assert _shape(first) == _shape(second) == (422, "application/problem+json", "totals_mismatch", _shape(first)[3])
    listed = await orders.call("GET", "/v1/orders", orders.merchant_token(merchant, "orders:read"))
    assert listed.json()["data"] == []


async def test_a_body_that_does_not_validate_answers_the_same(orders: OrdersService):
    token = orders.merchant_token(new_id("mer"))
    body = order_body()
    del body["currency"]
    first, second = await _twice(orders, token, body)
    assert _shape(first) == _shape(second)
    assert first.status_code == 422 and first.json()["code"] == "validation_failed"
    assert first.json()["errors"] == second.json()["errors"]


async def test_an_app_token_is_refused_the_same(orders: OrdersService):
    token = orders.app_token(new_id("mer"), install_id=new_id("ins"), app_id=new_id("app"))
    first, second = await _twice(orders, token, order_body())
    assert _shape(first) == _shape(second)
    assert first.status_code == 403 and first.json()["code"] == "merchant_only"


async def test_idempotency_keys_hold_on_the_fast_path(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    warm = await orders.call("POST", "/v1/orders", token, json=order_body())  # the route, once
    assert warm.status_code == 201
    key = {"Idempotency-Key": f"fast-{new_id('cmd')}"}
    created, replayed = await _twice(orders, token, order_body(), key)
    assert created.status_code == replayed.status_code == 201
    assert replayed.content == created.content and replayed.headers["idempotent-replayed"] == "true"
    assert replayed.headers["location"] == created.headers["location"]
    reused = await orders.call("POST", "/v1/orders", token, json=order_body(note="another"), headers=key)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # a key the route must judge (not printable ASCII) is still refused by it
    odd = await orders.call("POST", "/v1/orders", token, json=order_body(), headers={"Idempotency-Key": b"k\t1"})
    assert odd.status_code == 422
    listed = await orders.call("GET", "/v1/orders", orders.merchant_token(merchant, "orders:read"))
    assert len(listed.json()["data"]) == 2  # the warm-up and the keyed one, nothing else
