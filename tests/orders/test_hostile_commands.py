"""Issue 7 reproductions 4 and 5 against the orders service on the real broker: a command
that is refused is dead-lettered with its reason, never dropped or retried as if temporary,
and the command behind it is applied."""

from __future__ import annotations

import json

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import CreateOrder, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_COMMANDS
from tests.orders.service import OrdersService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def create_command(merchant: str, order_id: str, **fields):
    data = CreateOrder(
        merchant_id=merchant, customer={"email": "kim@example.com"}, currency="EUR",
        line_items=[{"sku": "CUP", "title": "Cup", "quantity": 1, "unit_price": {"amount": 700, "currency": "EUR"},
                     "tax": {"amount": 0, "currency": "EUR"}}],
        shipping={"amount": 0, "currency": "EUR"}, **fields,
    )
    return build_envelope(types.ORDER_CREATE, data, source="flint.checkout", subject=order_id)


async def test_a_create_naming_another_merchants_order_is_dead_lettered_and_a_resent_create_is_a_duplicate(
    orders: OrdersService, caplog
):
    # given merchant A's order, created by command
    merchant_a, merchant_b, order_id = new_id("mer"), new_id("mer"), new_id("ord")
    first = await orders.publish(ORDERS_COMMANDS, create_command(merchant_a, order_id))
    await orders.order_events(order_id, 1)
    # when merchant B's create names A's order id, and A's create is sent again
    hostile = await orders.publish(ORDERS_COMMANDS, create_command(merchant_b, order_id))
    again = await orders.publish(ORDERS_COMMANDS, create_command(merchant_a, order_id))
    # then B's create is dead-lettered as order_id_taken
    dead = await orders.dead_letter(ORDERS_COMMANDS, hostile.id)
    assert dead["flint-dlq-code"] == "order_id_taken"
    # and A's order is untouched: one order.created, still A's
    await eventually(lambda: _inbox_has(orders, again.id), message="the re-sent create to be taken care of")
    assert [e["type"] for e in orders.tap.events("flint.orders.events.v1", order_id)] == ["order.created"]
    assert (await orders.get_order(merchant_a, order_id))["merchant_id"] == merchant_a
    assert first.id != again.id


async def test_a_nul_in_a_commands_note_is_dead_lettered_at_once_as_invalid_event(orders: OrdersService):
    # given a create whose buyer note holds a NUL (sent by a buggy producer), then a valid one
    merchant = new_id("mer")
    broken_id, valid_id = new_id("ord"), new_id("ord")
    body = json.loads(create_command(merchant, broken_id, note="Gift").to_bytes())
    body["data"]["note"] = "Gi\u0000ft"
    raw = json.dumps(body).encode()
    await orders.producer.send_and_wait(ORDERS_COMMANDS, raw, key=broken_id.encode(),
                                        headers=[("flint-event-id", body["id"].encode())])
    await orders.publish(ORDERS_COMMANDS, create_command(merchant, valid_id))
    # then it is dead-lettered on its first try, naming the problem
    dead = await orders.dead_letter(ORDERS_COMMANDS, body["id"])
    assert dead["flint-dlq-attempts"] == "1"
    assert dead["flint-dlq-code"] == "invalid_event" and "note" in dead["flint-dlq-reason"]
    assert "NUL" in dead["flint-dlq-reason"]
    # and the valid create is applied; the broken one created nothing
    await orders.order_events(valid_id, 1)
    response = await orders.call("GET", f"/v1/orders/{broken_id}", orders.merchant_token(merchant))
    assert response.status_code == 404


async def _inbox_has(orders: OrdersService, event_id: str) -> bool:
    return await orders.pool.fetchval("SELECT 1 FROM flint_inbox WHERE message_id = $1", event_id) is not None
