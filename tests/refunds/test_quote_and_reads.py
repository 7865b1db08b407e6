"""Quotes (what a refund would return, changing nothing), reading refunds, and the one set of
refund rules both services compute with: the refunds service's quote and the orders service's
refund context never disagree."""

from __future__ import annotations

import pytest

from flint_contracts.ids import new_id
from tests.orders.service import eur, order_body
from tests.refunds.service import RefundsService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# 3 mugs at 10.00 with 3.00 tax, 2 plates at 5.00, 5.00 shipping, 4.00 off: 44.00
MIXED = order_body(line_items=[
    {"title": "Mug", "sku": "MUG-1", "quantity": 3, "unit_price": eur(1000), "tax": eur(300)},
    {"title": "Plate", "sku": "PLT-1", "quantity": 2, "unit_price": eur(500), "tax": eur(0)},
], discounts=[{"code": "SPRING", "amount": eur(400)}])


async def quote(refunds: RefundsService, token: str, body: dict) -> dict:
    response = await refunds.call("POST", "/v1/refunds/quote", token, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_quote_says_what_would_be_refunded_per_line_and_payment_and_changes_nothing(refunds: RefundsService):
    # given an order paid in two payments
    merchant = new_id("mer")
    order, [first, second] = await refunds.paid_order(merchant, MIXED, payments=[2000, 2400])
    mugs, plates = (line["id"] for line in order["line_items"])
    token = refunds.app_token(merchant)

    # when a refund of two mugs, one plate and the shipping is quoted
    answer = await quote(refunds, token, {"order_id": order["id"], "shipping": "remaining", "lines": [
        {"line_item_id": mugs, "quantity": 2}, {"line_item_id": plates, "quantity": 1}]})

    # then each line returns its price, its tax share and less its discount share, and the
    # total goes back to the oldest payment first
    assert answer["object"] == "refund_quote" and answer["refusals"] == []
    by_line = {line["line_item_id"]: line for line in answer["lines"]}
    assert (by_line[mugs]["subtotal"], by_line[mugs]["tax"], by_line[mugs]["discount"]) == (eur(2000), eur(200), eur(200))
    assert (by_line[plates]["subtotal"], by_line[plates]["discount"], by_line[plates]["amount"]) == (
        eur(500), eur(50), eur(450))
    assert (answer["shipping"], answer["total"], answer["max_refundable"]) == (eur(500), eur(2950), eur(4400))
    assert answer["payments"] == [{"payment_id": first["payment_id"], "amount": eur(2000)},
                                  {"payment_id": second["payment_id"], "amount": eur(950)}]
    # and nothing was stored
    assert await refunds.pool.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", order["id"]) == 0
    # and a refused request is quoted with every reason, each naming its field
    refused = await quote(refunds, token, {"order_id": order["id"], "amount": {"amount": 1, "currency": "USD"},
                                           "lines": [{"line_item_id": mugs, "quantity": 4}]})
    assert [(r["code"], r["field"]) for r in refused["refusals"]] == [
        ("line_quantity_exceeded", "lines.0.quantity"), ("currency_mismatch", "amount")]


async def test_the_quote_and_the_orders_refund_context_agree_after_refunds(refunds: RefundsService):
    # given an order after a refund of one mug and a goodwill amount
    merchant = new_id("mer")
    order, _ = await refunds.paid_order(merchant, MIXED, payments=[2000, 2400])
    mugs = order["line_items"][0]["id"]
    token = refunds.app_token(merchant)
    for body in ({"lines": [{"line_item_id": mugs, "quantity": 1}]}, {"amount": eur(333)}):
        made = await refunds.refund(token, {"order_id": order["id"], "reason": "other", **body})
        assert made.json()["status"] == "succeeded", made.text
    # (a mug: 10.00 + a third of 3.00 tax - a third of its 3.00 share of the discount)
    shown = await refunds.order_shows(merchant, order["id"], lambda o: len(o["refunds"]) == 2 and all(
        r["status"] == "succeeded" for r in o["refunds"]))

    # when both services are asked what is left
    context = (await refunds.orders.call("GET", f"/v1/orders/{order['id']}/refund-context",
                                         refunds.orders.merchant_token(merchant))).json()
    everything = await quote(refunds, token, {"order_id": order["id"], "amount": eur(1)})

    # then they say the same: in total, per line and per payment
    assert context["max_refundable"] == everything["max_refundable"] == eur(4400 - 1000 - 333)
    assert shown["amounts"]["refunded"] == eur(1000 + 333)
    events = refunds.refund_events(order["id"])
    last = events[-1]["data"]["refund_context"]
    assert [(line["refundable_quantity"], line["refundable_amount"]) for line in context["lines"]] == [
        (line["refundable_quantity"], line["refundable_amount"]) for line in last["lines"]]
    assert [(p["payment_id"], p["refundable"]) for p in context["payments"]] == [
        (p["payment_id"], p["refundable"]) for p in last["payments"]]


async def test_refunds_are_read_one_by_one_and_listed_by_order_newest_first(refunds: RefundsService):
    # given three refunds of one order and one of another order of the same merchant
    merchant = new_id("mer")
    order, _ = await refunds.paid_order(merchant)
    other, _ = await refunds.paid_order(merchant)
    token = refunds.app_token(merchant)
    made = [(await refunds.refund(token, {"order_id": order["id"], "reason": "goodwill", "amount": eur(100 + n)})).json()
            for n in range(3)]
    await refunds.refund(token, {"order_id": other["id"], "reason": "goodwill", "amount": eur(100)})
    reader = refunds.app_token(merchant, "refunds:read")

    # when the order's refunds are listed two at a time
    page = (await refunds.call("GET", f"/v1/refunds?order_id={order['id']}&limit=2", reader)).json()
    rest = (await refunds.call("GET", f"/v1/refunds?order_id={order['id']}&limit=2&starting_after="
                                      f"{page['next_cursor']}", reader)).json()

    # then they come newest first, each once, exactly as GET shows it
    listed = page["data"] + rest["data"]
    assert [r["id"] for r in listed] == [r["id"] for r in reversed(made)]
    assert (page["has_more"], rest["has_more"], rest["next_cursor"]) == (True, False, None)
    single = await refunds.call("GET", f"/v1/refunds/{made[0]['id']}", reader)
    assert single.json() == listed[-1]
    everything = (await refunds.call("GET", "/v1/refunds?status=succeeded&limit=100", reader)).json()["data"]
    assert len(everything) == 4


async def test_another_merchants_refunds_are_not_found_and_reading_needs_refunds_read(refunds: RefundsService):
    merchant, stranger = new_id("mer"), new_id("mer")
    order, _ = await refunds.paid_order(merchant)
    made = (await refunds.refund(refunds.app_token(merchant), {"order_id": order["id"], "reason": "goodwill",
                                                              "amount": eur(100)})).json()
    outsider = refunds.app_token(stranger, "refunds:read")
    assert (await refunds.call("GET", f"/v1/refunds/{made['id']}", outsider)).json()["code"] == "not_found"
    listed = await refunds.call("GET", f"/v1/refunds?order_id={order['id']}", outsider)
    assert (listed.status_code, listed.json()["code"]) == (404, "not_found")
    assert (await refunds.call("GET", "/v1/refunds", outsider)).json()["data"] == []
    writer = refunds.app_token(merchant, "refunds:write")
    forbidden = await refunds.call("GET", f"/v1/refunds/{made['id']}", writer)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "insufficient_scope")
    forged = await refunds.call("GET", "/v1/refunds?starting_after=abc.def", refunds.app_token(merchant))
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_cursor")
