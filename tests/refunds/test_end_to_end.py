"""End to end on the real Kafka broker: a plugin refunds part of an order through the refunds
service, the processor moves the money, and the orders service shows it to everyone."""

from __future__ import annotations

import pytest

from flint_contracts.ids import new_id
from tests.orders.service import eur, order_body
from tests.refunds.service import RefundsService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

THREE_MUGS = order_body(line_items=[{"title": "Mug", "sku": "MUG-1", "quantity": 3,
                                     "unit_price": eur(1000), "tax": eur(300)}])  # 33.00 + 5.00 shipping


async def test_a_plugin_refunds_two_of_three_mugs_and_the_order_shows_it(refunds: RefundsService):
    # given a paid order of three mugs, and an app installed with refunds:write
    merchant, app_id = new_id("mer"), new_id("app")
    order, [payment] = await refunds.paid_order(merchant, THREE_MUGS)
    line = order["line_items"][0]
    token = refunds.app_token(merchant, app_id=app_id)

    # when the app refunds two of the three mugs
    response = await refunds.refund(token, {"order_id": order["id"], "reason": "returned_items",
                                            "note": "Two came back unopened.",
                                            "lines": [{"line_item_id": line["id"], "quantity": 2}]})

    # then the refund succeeded on the processor: 2 × 10.00 + 2/3 of 3.00 tax
    assert response.status_code == 201, response.text
    refund = response.json()
    assert (refund["status"], refund["amount"]) == ("succeeded", eur(2200))
    assert refund["lines"] == [{"line_item_id": line["id"], "quantity": 2, "amount": eur(2200)}]
    assert refund["actor"] == {"type": "app", "id": app_id}
    [moved] = await refunds.ledger_refunds(payment["processor_reference"])
    assert moved["amount"] == eur(2200)
    # and the order shows it partially refunded, with what is left
    shown = await refunds.order_shows(merchant, order["id"], lambda o: o["payment_status"] == "partially_refunded")
    assert shown["amounts"]["refunded"] == eur(2200)
    assert shown["refunds"][0]["lines"] == refund["lines"]
    timeline = (await refunds.orders.call("GET", f"/v1/orders/{order['id']}/timeline",
                                          refunds.orders.merchant_token(merchant))).json()["data"]
    entry = timeline[-1]
    assert entry["type"] == "order.partially_refunded"
    assert entry["actor"] == {"type": "app", "id": app_id}
    assert entry["data"]["refund"]["lines"] == refund["lines"]
    # and plugins get order.partially_refunded carrying the refund
    events = await refunds.orders.order_events(order["id"], 4)
    published = [e for e in events if e["type"] == "order.partially_refunded"]
    assert len(published) == 1 and published[0]["data"]["refund"]["id"] == refund["id"]
    assert published[0]["data"]["refund"]["reason"] == "returned_items"
    assert published[0]["data"]["actor"] == {"type": "app", "id": app_id}
    # and the refund's own events carry the refund and the order's refund context after it
    created, succeeded = await eventually(lambda: len(e := refunds.refund_events(order["id"])) >= 2 and e,
                                          message="the refund's events")
    assert (created["type"], succeeded["type"]) == ("refund.created", "refund.succeeded")
    assert created["data"]["refund_context"]["pending"] == eur(2200)
    context = succeeded["data"]["refund_context"]
    assert (context["refunded"], context["max_refundable"]) == (eur(2200), eur(1600))
    assert context["lines"][0]["refundable_quantity"] == 1
    assert succeeded["data"]["payments"] == [{"payment_id": payment["payment_id"], "amount": eur(2200),
                                              "status": "succeeded", "processor_reference": moved["reference"],
                                              "failure_reason": None}]
