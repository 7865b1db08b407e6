"""Order numbers: per merchant, from #1001, without gaps, whichever way the create is
written. A create without a buyer's note is one statement that takes the number and writes
the order, its timeline entry and its event (the order is built with a placeholder number,
``repository.PENDING_NUMBER``, which the statement replaces); a create with a note, or with an
``Idempotency-Key``, runs in a transaction. These tests check that the number a client is
answered with is the one stored, on the timeline and in the event, under concurrency, and
that data which happens to hold the placeholder is kept as sent."""

from __future__ import annotations

import asyncio

import pytest

from flint_chassis import outbox
from flint_chassis.cause import Cause
from flint_contracts.event_types import ORDER_CREATED
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders import handlers, repository
from flint_orders.domain import Actor, Customer, NewLine, Order
from tests.orders.service import OrdersService, order_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _everywhere(orders: OrdersService, merchant: str, created: dict) -> tuple:
    """The order's number as stored, on its order.created timeline entry and in its event
    (the order's copy and the entry's data), beside the one the client was answered with."""
    token = orders.merchant_token(merchant, "orders:read")
    stored = await orders.get_order(merchant, created["id"])
    entry = (await orders.call("GET", f"/v1/orders/{created['id']}/timeline", token)).json()["data"][0]
    event = (await orders.order_events(created["id"], 1))[0]
    assert (entry["type"], event["type"]) == (ORDER_CREATED, ORDER_CREATED)
    return (created["number"], stored["number"], entry["data"]["number"], event["data"]["order"]["number"],
            event["data"]["number"])


async def test_concurrent_creates_of_one_merchant_are_numbered_without_gaps_everywhere(orders: OrdersService):
    # given one merchant whose backend sends 30 creates at once: plain ones (one statement),
    # ones with a buyer's note and ones with an Idempotency-Key (in a transaction)
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)

    async def create(i: int) -> dict:
        body = order_body(note=f"ring twice ({i})") if i % 3 == 1 else order_body()
        headers = {"Idempotency-Key": f"checkout-{i}"} if i % 3 == 2 else {}
        response = await orders.call("POST", "/v1/orders", token, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    refused = await orders.call("POST", "/v1/orders", token, json=order_body(line_items=[]))
    created = await asyncio.gather(*[create(i) for i in range(30)])
    # then the numbers run from #1001 to #1030, none twice, none skipped (the refused create took none)
    assert refused.status_code == 422
    assert sorted(o["number"] for o in created) == list(range(1001, 1031))
    # and each order carries its number wherever it is told: stored, on the timeline, in its event
    for order in created:
        assert set(await _everywhere(orders, merchant, order)) == {order["number"]}


@pytest.mark.parametrize("where", ["line title", "correlation id"])
async def test_data_holding_the_placeholder_number_is_kept_as_sent(orders: OrdersService, where):
    # given a create whose data holds the digits the service builds new orders with
    merchant = new_id("mer")
    digits = str(repository.PENDING_NUMBER)
    body, headers = order_body(), {}
    if where == "line title":
        body["line_items"][0]["title"] = f"Mug {digits}"
    else:
        headers["X-Correlation-Id"] = f"checkout:{digits}"
    await orders.create_order(merchant)  # #1001
    # when it is created
    created = await orders.create_order(merchant, body, headers=headers)
    # then it is #1002 everywhere, and the data still holds the digits, not its number
    assert set(await _everywhere(orders, merchant, created)) == {1002}
    event = (await orders.order_events(created["id"], 1))[0]
    if where == "line title":
        titles = [created["line_items"][0]["title"], (await orders.get_order(merchant, created["id"]))
                  ["line_items"][0]["title"], event["data"]["order"]["line_items"][0]["title"]]
        assert titles == [f"Mug {digits}"] * 3
    else:
        assert event["correlation_id"] == f"checkout:{digits}"


async def test_an_order_id_taken_already_takes_no_number(orders: OrdersService):
    # given a merchant's order #1001
    merchant = new_id("mer")
    first = await orders.create_order(merchant)
    # when the one-statement write is given an order with that id (outside any transaction)
    twin = Order.create(merchant_id=merchant, number=repository.PENDING_NUMBER, customer=Customer("ada@example.com"),
                        currency="EUR", lines=[NewLine("Mug", 1, Money(amount=1000, currency="EUR"))],
                        actor=Actor(type="merchant", id=merchant), order_id=first["id"])
    snapshot = twin.to_dict()
    (entry,) = twin.new_entries
    event = handlers.order_event(merchant, snapshot, entry, Cause.of_request())
    async with orders.pool.acquire() as conn:
        with pytest.raises(repository.ConcurrentChange):
            await repository.add_numbered(conn, twin, snapshot,
                                          repository.NewEntries((entry,), {entry.sequence: event.id}, None),
                                          outbox.Staged(ORDERS_EVENTS, [event]))
        # then nothing of it was written: the first order is unchanged, no event went to the outbox
        assert await conn.fetchval("SELECT count(*) FROM flint_outbox WHERE event_id = $1", event.id) == 0
    assert await orders.get_order(merchant, first["id"]) == first
    # and the merchant's next order is #1002
    assert (await orders.create_order(merchant))["number"] == 1002

