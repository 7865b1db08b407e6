"""The order record reacting to the platform, on the real broker and database: orders
created over HTTP or by command, payments and refunds consumed from their topics, and the
order events plugins receive."""

from __future__ import annotations

import pytest

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import AddNote, CreateOrder, RefundData, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.topics import INVOICES_EVENTS, ORDERS_COMMANDS, PAYMENTS_EVENTS, REFUNDS_EVENTS
from tests.orders.events import invoice, payment_captured, payment_failed, refund
from tests.orders.service import OrdersService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_a_created_order_is_published_as_order_created_with_sequence_1(orders: OrdersService):
    # given a merchant
    merchant = new_id("mer")
    # when it creates an order
    order = await orders.create_order(merchant)
    # then order.created is on Kafka, keyed by the order, at sequence and version 1
    [created] = await orders.order_events(order["id"], 1)
    assert created["type"] == "order.created"
    assert (created["sequence"], created["version"]) == (1, 1)
    assert created["merchant_id"] == merchant and created["subject"] == order["id"]
    assert created["data"]["order"]["amounts"]["balance_due"] == {"amount": 2880, "currency": "EUR"}
    assert created["data"]["actor"] == {"type": "merchant", "id": merchant}


async def test_a_captured_payment_makes_the_order_paid_with_nothing_left_to_pay(orders: OrdersService):
    # given an order of 28.80 EUR
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    # when checkout captures 28.80 EUR on flint.payments.events.v1
    await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    # then the order is paid, nothing is due, and plugins get order.paid at sequence 2
    paid = await eventually(lambda: _when(orders.get_order(merchant, order["id"]), payment_status="paid"),
                            message="the order to be paid")
    assert paid["amounts"]["balance_due"] == {"amount": 0, "currency": "EUR"}
    assert paid["amounts"]["captured"] == {"amount": 2880, "currency": "EUR"}
    [_, event] = await orders.order_events(order["id"], 2)
    assert (event["type"], event["sequence"], event["version"]) == ("order.paid", 2, 2)
    assert event["previous"]["payment_status"] == "unpaid"
    assert event["previous"]["amounts.balance_due"] == {"amount": 2880, "currency": "EUR"}


async def test_the_same_payment_delivered_twice_counts_once(orders: OrdersService):
    # given an order and a partial payment
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    payment = payment_captured(order, 1000)
    # when the same event arrives twice, and the same payment again under a new event id
    await orders.publish(PAYMENTS_EVENTS, payment)
    await orders.publish(PAYMENTS_EVENTS, payment)
    resent = EventEnvelope(**{**payment.model_dump(), "id": new_id("evt")})
    await orders.publish(PAYMENTS_EVENTS, resent)
    # and a failed attempt after them, so we know all three were read (same key, same partition)
    await orders.publish(PAYMENTS_EVENTS, payment_failed(order, 1880))
    await eventually(lambda: _when(orders.get_order(merchant, order["id"]), version=3), message="the failed attempt")
    # then the order holds one captured payment of 10.00 and one failed attempt
    current = await orders.get_order(merchant, order["id"])
    assert [(p["status"], p["amount"]["amount"]) for p in current["payments"]] == [("captured", 1000), ("failed", 1880)]
    assert current["payment_status"] == "partially_paid"
    assert current["amounts"]["balance_due"]["amount"] == 1880
    assert [e["type"] for e in await orders.order_events(order["id"], 2)] == ["order.created", "order.partially_paid"]


async def test_a_partial_refund_is_published_as_order_partially_refunded_with_its_lines(orders: OrdersService):
    # given a paid order
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    line = order["line_items"][0]
    lines = [{"line_item_id": line["id"], "quantity": 1, "amount": {"amount": 1190, "currency": "EUR"}}]
    refund_id = new_id("rfd")
    # when the refunds service creates a refund of one mug and it succeeds
    await orders.publish(REFUNDS_EVENTS, refund(order, types.REFUND_CREATED, refund_id, 1190, lines=lines))
    await orders.publish(REFUNDS_EVENTS, refund(order, types.REFUND_SUCCEEDED, refund_id, 1190, lines=lines))
    # then plugins get order.partially_refunded carrying the refund's lines, amount, reason and actor
    events = await orders.order_events(order["id"], 4)
    assert [e["type"] for e in events] == ["order.created", "order.paid", "order.updated", "order.partially_refunded"]
    refunded = events[3]
    assert refunded["data"]["refund"]["lines"] == lines
    assert refunded["data"]["refund"]["amount"] == {"amount": 1190, "currency": "EUR"}
    assert refunded["data"]["refund"]["reason"] == "defective"
    assert refunded["data"]["refund"]["actor"]["type"] == "app"
    assert refunded["previous"]["payment_status"] == "paid"
    current = await orders.get_order(merchant, order["id"])
    assert (current["payment_status"], current["amounts"]["refunded"]["amount"]) == ("partially_refunded", 1190)


async def test_a_refund_that_overtakes_its_payment_waits_for_it_instead_of_being_refused(orders: OrdersService):
    # given an order whose payment the refunds service has seen, but the orders service not yet
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    refund_id = new_id("rfd")
    # when the refund reaches orders first (another topic), and the payment a moment later
    await orders.publish(REFUNDS_EVENTS, refund(order, types.REFUND_CREATED, refund_id, 1000))
    await eventually(lambda: _parked(orders, order["id"]), message="the refund to be parked")
    await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    # then both apply, payment first, and nothing is dead-lettered
    events = await orders.order_events(order["id"], 3)
    assert [e["type"] for e in events] == ["order.created", "order.paid", "order.updated"]
    current = await orders.get_order(merchant, order["id"])
    assert current["amounts"]["refund_pending"] == {"amount": 1000, "currency": "EUR"}
    assert orders.dead_letters(REFUNDS_EVENTS, events[2]["causation_id"]) == []


async def _parked(orders: OrdersService, order_id: str) -> bool:
    return bool(await orders.pool.fetchval(
        "SELECT count(*) FROM flint_parked WHERE aggregate = convert_to('k:' || $1, 'UTF8')", order_id))


async def test_a_payment_in_another_currency_is_dead_lettered_and_noted_on_the_timeline(orders: OrdersService):
    # given an order in EUR
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    # when a payment in USD arrives for it
    wrong = await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880, currency="USD"))
    # then it is in the dead-letter topic with the reason
    headers = await orders.dead_letter(PAYMENTS_EVENTS, wrong.id)
    assert headers["flint-dlq-code"] == "currency_mismatch"
    assert "USD" in headers["flint-dlq-reason"] and "EUR" in headers["flint-dlq-reason"]
    # and the order's timeline says which event was rejected and why, while its money is untouched
    timeline = await orders.call("GET", f"/v1/orders/{order['id']}/timeline", orders.merchant_token(merchant))
    rejected = timeline.json()["data"][-1]
    assert rejected["type"] == "event.rejected"
    assert rejected["data"]["event_id"] == wrong.id and "USD" in rejected["data"]["reason"]
    current = await orders.get_order(merchant, order["id"])
    assert (current["payment_status"], current["payments"]) == ("unpaid", [])


async def test_an_order_created_by_command_is_created_once(orders: OrdersService):
    # given checkout's create command, with the order id it chose, sent twice
    merchant, order_id = new_id("mer"), new_id("ord")
    data = CreateOrder(
        merchant_id=merchant, customer={"email": "bob@example.com"}, currency="EUR",
        line_items=[{"sku": "TEA", "title": "Tea", "quantity": 3, "unit_price": {"amount": 400, "currency": "EUR"},
                     "tax": {"amount": 0, "currency": "EUR"}}],
        shipping={"amount": 0, "currency": "EUR"}, tags=["Wholesale"], note="Gift wrap, please.",
    )
    command = build_envelope(types.ORDER_CREATE, data, source="flint.checkout", subject=order_id)
    await orders.publish(ORDERS_COMMANDS, command)
    await orders.publish(ORDERS_COMMANDS, EventEnvelope(**{**command.model_dump(), "id": new_id("evt")}))
    # and a note after them on the same key, so once it shows, both creates were read
    note = AddNote(body="Called the buyer.", actor={"type": "merchant", "id": merchant})
    await orders.publish(ORDERS_COMMANDS, build_envelope(types.ORDER_ADD_NOTE, note, source="flint.checkout",
                                                         merchant_id=merchant, subject=order_id))
    # then one order exists with that id, the buyer's note after its creation, and no second creation
    events = await orders.order_events(order_id, 3)
    assert [(e["type"], e["sequence"]) for e in events] == [
        ("order.created", 1), ("order.note_added", 2), ("order.note_added", 3)]
    created = await orders.get_order(merchant, order_id)
    assert created["tags"] == ["wholesale"] and created["number"] == 1001
    assert created["notes"][0]["actor"] == {"type": "buyer", "id": None}
    assert events[0]["data"]["actor"] == {"type": "system", "id": "flint.checkout"}


async def test_invoice_events_are_kept_on_the_order_and_its_timeline_and_late_ones_change_nothing(
    orders: OrdersService,
):
    # given an order with an invoice for its balance, sent and then reminded about
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    invoice_id = new_id("inv")
    for type_, extra in ((types.INVOICE_CREATED, {}), (types.INVOICE_SENT, {}),
                         (types.INVOICE_REMINDER_SENT, {"reminder_number": 1})):
        await orders.publish(INVOICES_EVENTS, invoice(order, type_, invoice_id, "open", 2880, **extra))
    # and the "created" event delivered again, late
    await orders.publish(INVOICES_EVENTS, invoice(order, types.INVOICE_CREATED, invoice_id, "open", 2880))
    # and then another invoice, on the same topic and key, so it is read after all of them
    voided = new_id("inv")
    await orders.publish(INVOICES_EVENTS, invoice(order, types.INVOICE_VOIDED, voided, "void", 2880))
    await eventually(lambda: _when(orders.get_order(merchant, order["id"]), version=5), message="the events")
    # then the order holds the open invoice with one reminder, and the timeline tells the story
    current = await orders.get_order(merchant, order["id"])
    assert [(i["id"], i["status"], i["sent"], i["reminders_sent"]) for i in current["invoices"]] == [
        (invoice_id, "open", True, 1), (voided, "void", False, 0)]
    timeline = (await orders.call("GET", f"/v1/orders/{order['id']}/timeline", orders.merchant_token(merchant))).json()
    assert [e["type"] for e in timeline["data"]] == [
        "order.created", "invoice.created", "invoice.sent", "invoice.reminder_sent", "invoice.voided"]
    # and invoices, which move no money, publish no order events of their own: a note added now
    # is published after anything they could have caused (the outbox keeps an order's commit order)
    await orders.call("POST", f"/v1/orders/{order['id']}/notes", orders.merchant_token(merchant),
                      json={"body": "Invoice sent by post too."})
    events = await orders.order_events(order["id"], 2)
    assert [e["type"] for e in events] == ["order.created", "order.note_added"]


async def _when(response, **expected):
    order = await response
    return order if all(order.get(k) == v for k, v in expected.items()) else None


async def test_a_payment_that_arrives_just_before_its_order_still_pays_it(orders: OrdersService):
    # given checkout's create command and its payment, the payment published first
    merchant, order_id = new_id("mer"), new_id("ord")
    data = CreateOrder(
        merchant_id=merchant, customer={"email": "eve@example.com"}, currency="EUR",
        line_items=[{"sku": "MAP", "title": "Map", "quantity": 1, "unit_price": {"amount": 900, "currency": "EUR"},
                     "tax": {"amount": 0, "currency": "EUR"}}],
        shipping={"amount": 0, "currency": "EUR"},
    )
    await orders.publish(PAYMENTS_EVENTS, payment_captured({"id": order_id, "merchant_id": merchant}, 900))
    # when the command follows on its own topic
    await orders.publish(ORDERS_COMMANDS, build_envelope(types.ORDER_CREATE, data, source="flint.checkout",
                                                         subject=order_id))
    # then the payment was retried until the order existed, and the order is paid
    token = orders.merchant_token(merchant)

    async def paid_order() -> dict | None:
        response = await orders.call("GET", f"/v1/orders/{order_id}", token)
        return response.json() if response.status_code == 200 and response.json()["payment_status"] == "paid" else None

    paid = await eventually(paid_order, message="the order to be paid")
    assert paid["amounts"]["captured"] == {"amount": 900, "currency": "EUR"}


async def test_a_payment_for_an_order_that_never_comes_is_dead_lettered_as_unknown_order(orders: OrdersService):
    merchant = new_id("mer")
    stray = payment_captured({"id": new_id("ord"), "merchant_id": merchant}, 500)
    await orders.publish(PAYMENTS_EVENTS, stray)
    dead = await orders.dead_letter(PAYMENTS_EVENTS, stray.id)
    assert dead["flint-dlq-code"] == "unknown_order"
    assert dead["flint-dlq-reason"] == f"unknown order {stray.subject} for this merchant"
    assert dead["flint-dlq-attempts"] == "4"  # the first try, then one per parking delay


async def test_a_refund_for_an_order_that_never_comes_is_retried_then_dead_lettered(orders: OrdersService):
    # given a refund event about an order this service does not know
    stray = refund({"id": new_id("ord"), "merchant_id": new_id("mer")}, types.REFUND_CREATED, new_id("rfd"), 500)
    # when it arrives, then it is parked and tried again, and dead-lettered only after the delays
    await orders.publish(REFUNDS_EVENTS, stray)
    dead = await orders.dead_letter(REFUNDS_EVENTS, stray.id)
    assert (dead["flint-dlq-code"], dead["flint-dlq-attempts"]) == ("unknown_order", "4")


async def test_a_refund_whose_payment_never_comes_is_dead_lettered_with_the_rules_code(orders: OrdersService):
    # given a paid order, and a refund of it taken from a payment this service never sees
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    data = refund(order, types.REFUND_CREATED, new_id("rfd"), 500).data
    parted = RefundData.model_validate({**data, "payments": [
        {"payment_id": new_id("pay"), "amount": {"amount": 500, "currency": "EUR"}, "status": "pending"}]})
    stray = build_envelope(types.REFUND_CREATED, parted, source="flint.refunds", merchant_id=merchant)
    # when it arrives, then it waits for the payment, and in the end is refused for it
    await orders.publish(REFUNDS_EVENTS, stray)
    dead = await orders.dead_letter(REFUNDS_EVENTS, stray.id)
    assert dead["flint-dlq-code"] == "unknown_payment"
    assert (await orders.get_order(merchant, order["id"]))["refunds"] == []
