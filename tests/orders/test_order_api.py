"""The orders HTTP API as a plugin or merchant backend uses it: bad input, idempotent creates,
lists, the timeline, the refund context and the actions on an order."""

from __future__ import annotations

import asyncio

import pytest

from flint_contracts.limits import MAX_TAG_LENGTH
from flint_contracts.ids import new_id
from flint_contracts.topics import PAYMENTS_EVENTS
from tests.orders.events import payment_captured
from tests.orders.service import OrdersService, eur, order_body
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MUG = {"title": "Mug", "quantity": 2, "unit_price": eur(1000), "tax": eur(380)}


@pytest.mark.parametrize(
    ("body", "field", "code", "message"),
    [
        (order_body(currency="EUX"), "currency", "invalid", "unknown ISO-4217 currency"),
        (order_body(line_items=[{**MUG, "quantity": -1}]), "line_items.0.quantity", "too_small", "must be at least 1"),
        (order_body(line_items=[{**MUG, "quantity": 1.5}]), "line_items.0.quantity", "not_an_integer",
         "must be a whole number"),
        (order_body(line_items=[{**MUG, "unit_price": {"amount": 10.5, "currency": "EUR"}}]),
         "line_items.0.unit_price.amount", "not_an_integer", "must be a whole number"),
        (order_body(total=eur(9999)), "total", "totals_mismatch", "add up to 28.80 EUR"),
        (order_body(line_items=[{**MUG, "unit_price": {"amount": 1000, "currency": "USD"}}]),
         "line_items.0.unit_price", "currency_mismatch", "is in USD, the order is in EUR"),
        (order_body(shipping={"amount": 500, "currency": "GBP"}), "shipping", "currency_mismatch", "is in GBP"),
        (order_body(shiping=eur(500)), "shiping", "unknown_field", "is not a field of this request"),
        (order_body(line_items=[]), "line_items", "too_few", "must not be empty"),
        (order_body(customer={"email": "not-an-email"}), "customer.email", "invalid_input", "is not an email address"),
        (order_body(line_items=[{**MUG, "unit_price": eur(-1)}]), "line_items.0.unit_price", "invalid_input",
         "must not be negative"),
        (order_body(discounts=[{"code": "BIG", "amount": eur(5000)}]), "discounts", "invalid_input",
         "more than the subtotal"),
    ],
    ids=["unknown-currency", "negative-quantity", "fractional-quantity", "fractional-amount", "totals-mismatch",
         "mixed-currency-line", "mixed-currency-shipping", "unknown-field", "no-lines", "bad-email",
         "negative-price", "discount-over-subtotal"],
)
async def test_bad_input_is_a_422_naming_the_field_and_the_reason(orders: OrdersService, body, field, code, message):
    merchant = new_id("mer")
    response = await orders.call("POST", "/v1/orders", orders.merchant_token(merchant), json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["code"] == code and message in e["message"] for e in errors), errors
    listed = await orders.call("GET", "/v1/orders", orders.merchant_token(merchant))
    assert listed.json()["data"] == []  # nothing was created


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [("limit=101", "limit", "too_large"), ("limit=0", "limit", "too_small"),
     ("starting_after=garbage", "starting_after", "pattern_mismatch"),
     ("starting_after=WzE3MDAwMDAwMDAwMDAwMDAsIm9yZF8xIl0.c2lnbmVk", "starting_after", "invalid_cursor"),
     ("payment_status=owing", "payment_status", "not_allowed"),
     ("payment_staus=paid", "payment_staus", "unknown_parameter"),
     ("status=open&status=canceled", "status", "repeated_parameter"),
     ("created_gte=yesterday", "created_gte", "invalid"),
     ("created_lt=0.5", "created_lt", "invalid"),
     ("created_gte=0001-01-01T00:00:00%2B14:00", "created_gte", "invalid"),
     ("customer_email=a%00b", "customer_email", "invalid_text")],
    ids=["limit-over-100", "limit-zero", "malformed-cursor", "forged-cursor", "unknown-status", "misspelt-filter",
         "repeated-filter", "bad-date", "epoch-number", "before-year-1", "nul"],
)
async def test_bad_list_parameters_are_a_422_naming_the_parameter(orders: OrdersService, query, field, code):
    response = await orders.call("GET", f"/v1/orders?{query}", orders.merchant_token(new_id("mer")))
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


async def test_the_same_idempotency_key_and_body_replays_the_first_order(orders: OrdersService):
    # given a merchant's backend sending one create four times at once (timeouts and retries)
    merchant = new_id("mer")
    headers = {"Idempotency-Key": "checkout-4711"}
    responses = await asyncio.gather(*[
        orders.call("POST", "/v1/orders", orders.merchant_token(merchant), json=order_body(), headers=headers)
        for _ in range(4)])
    # and once more later
    later = await orders.call("POST", "/v1/orders", orders.merchant_token(merchant), json=order_body(), headers=headers)
    # then every response is the first one, byte for byte, and there is one order
    first = responses[0].json()
    assert all(r.status_code == 201 and r.content == responses[0].content for r in [*responses, later])
    assert later.headers["idempotent-replayed"] == "true" and later.headers["location"] == f"/v1/orders/{first['id']}"
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1  # the one that created it
    listed = await orders.call("GET", "/v1/orders", orders.merchant_token(merchant))
    assert [o["id"] for o in listed.json()["data"]] == [first["id"]]


async def test_the_same_idempotency_key_with_another_body_is_refused(orders: OrdersService):
    merchant = new_id("mer")
    headers = {"Idempotency-Key": "checkout-4712"}
    token = orders.merchant_token(merchant)
    await orders.call("POST", "/v1/orders", token, json=order_body(), headers=headers)
    response = await orders.call("POST", "/v1/orders", token, json=order_body(shipping=eur(0)), headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["errors"] == [{"field": "Idempotency-Key", "code": "idempotency_key_reused",
                                          "message": "was used before with another request"}]
    # another merchant may use the same key for its own order
    other = await orders.call("POST", "/v1/orders", orders.merchant_token(new_id("mer")), json=order_body(),
                              headers=headers)
    assert other.status_code == 201


async def test_a_failed_create_does_not_use_up_its_idempotency_key(orders: OrdersService):
    merchant = new_id("mer")
    headers = {"Idempotency-Key": "checkout-4713"}
    token = orders.merchant_token(merchant)
    bad = await orders.call("POST", "/v1/orders", token, json=order_body(total=eur(1)), headers=headers)
    good = await orders.call("POST", "/v1/orders", token, json=order_body(total=eur(1)) | {"total": eur(2880)},
                             headers=headers)
    assert (bad.status_code, good.status_code) == (422, 201)


async def test_order_numbers_count_up_per_merchant_without_gaps(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    await orders.call("POST", "/v1/orders", token, json=order_body(total=eur(1)))  # refused: takes no number
    created = await asyncio.gather(*[orders.create_order(merchant) for _ in range(5)])
    assert sorted(o["number"] for o in created) == [1001, 1002, 1003, 1004, 1005]


async def test_pagination_returns_every_order_exactly_once_while_orders_are_inserted(orders: OrdersService):
    # given a merchant with 30 orders
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    existing = {o["id"] for o in await asyncio.gather(*[orders.create_order(merchant) for _ in range(30)])}
    inserted: set[str] = set()

    async def keep_inserting() -> None:
        for _ in range(20):
            inserted.add((await orders.create_order(merchant))["id"])

    # when it pages through 7 at a time while 20 more orders are being created
    async def page_through() -> list[str]:
        seen, cursor = [], None
        while True:
            query = "limit=7" + (f"&starting_after={cursor}" if cursor else "")
            page = (await orders.call("GET", f"/v1/orders?{query}", token)).json()
            seen += [o["id"] for o in page["data"]]
            if not page["has_more"]:
                return seen
            cursor = page["next_cursor"]
            await asyncio.sleep(0)  # let the inserts interleave with the pages

    _, seen = await asyncio.gather(keep_inserting(), page_through())
    # then every order that existed is seen exactly once, and nothing is seen twice
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)
    assert set(seen) <= existing | inserted
    # and afterwards a walk returns all 50, newest first
    everything, cursor = [], None
    while True:
        page = (await orders.call("GET", "/v1/orders?limit=100" + (f"&starting_after={cursor}" if cursor else ""),
                                  token)).json()
        everything += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert {o["id"] for o in everything} == existing | inserted and len(everything) == 50
    assert [o["created_at"] for o in everything] == sorted((o["created_at"] for o in everything), reverse=True)


async def test_lists_filter_by_status_payment_status_email_tag_and_time(orders: OrdersService):
    # given three orders: one paid, one tagged, one canceled for another customer
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    paid = await orders.create_order(merchant)
    tagged = await orders.create_order(merchant, order_body(tags=["VIP"]))
    canceled = await orders.create_order(merchant, order_body(customer={"email": "Bob@Example.com"}))
    await orders.call("POST", f"/v1/orders/{canceled['id']}/cancel", token, json={"reason": "customer asked"})
    await orders.publish(PAYMENTS_EVENTS, payment_captured(paid, 2880))
    await eventually(lambda: _count(orders, token, "payment_status=paid", 1), message="the payment")

    async def ids(query: str) -> list[str]:
        return [o["id"] for o in (await orders.call("GET", f"/v1/orders?{query}", token)).json()["data"]]

    # then each filter finds what it should
    assert await ids("payment_status=paid") == [paid["id"]]
    assert await ids("status=canceled") == [canceled["id"]]
    assert await ids("payment_status=voided") == [canceled["id"]]
    assert await ids("customer_email=bob@example.com") == [canceled["id"]]
    assert await ids("tag=vip") == [tagged["id"]]
    assert await ids("status=open&payment_status=unpaid") == [tagged["id"]]
    created = tagged["created_at"].replace("+00:00", "Z")
    assert await ids(f"created_gte={created}&created_lt={canceled['created_at'].replace('+00:00', 'Z')}") == [tagged["id"]]


async def test_the_timeline_explains_every_change_in_sequence(orders: OrdersService):
    # given an order that was tagged, noted, paid in part and canceled
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant)
    await orders.call("PUT", f"/v1/orders/{order['id']}/tags/VIP", token)
    await orders.call("PUT", f"/v1/orders/{order['id']}/tags/vip", token)  # already tagged: no entry
    await orders.call("POST", f"/v1/orders/{order['id']}/notes", token, json={"body": "Called the buyer."})
    await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 1000))
    await eventually(lambda: _version(orders, merchant, order["id"], 4), message="the payment")
    await orders.call("POST", f"/v1/orders/{order['id']}/cancel", token, json={"reason": "out of stock"})
    # when the timeline is read, two entries at a time
    entries, query = [], "limit=2"
    while True:
        page = (await orders.call("GET", f"/v1/orders/{order['id']}/timeline?{query}", token)).json()
        entries += page["data"]
        if not page["has_more"]:
            break
        query = f"limit=2&starting_after={page['next_cursor']}"
    # then it lists every change once, gap-free, with who did it and what changed
    assert [(e["sequence"], e["type"]) for e in entries] == [
        (1, "order.created"), (2, "order.updated"), (3, "order.note_added"), (4, "order.partially_paid"),
        (5, "order.canceled")]
    assert entries[1]["changes"]["tags"] == {"from": [], "to": ["vip"]}
    assert entries[1]["actor"] == {"type": "merchant", "id": merchant}
    assert entries[3]["actor"] == {"type": "system", "id": None}
    assert entries[4]["changes"]["amounts.credit"] == {"from": eur(0), "to": eur(1000)}
    assert all(e["event_id"] for e in entries)


async def test_the_refund_context_says_what_can_still_be_refunded_and_why_not(orders: OrdersService):
    # given an unpaid order
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant)
    path = f"/v1/orders/{order['id']}/refund-context"
    unpaid = (await orders.call("GET", path, token)).json()
    assert unpaid["max_refundable"] == eur(0)
    assert [r["code"] for r in unpaid["refusal_reasons"]] == ["not_paid"]
    # when it is paid in full
    payment = await orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    await eventually(lambda: _version(orders, merchant, order["id"], 2), message="the payment")
    # then everything is refundable, per line, on shipping and on the payment
    context = (await orders.call("GET", path, token)).json()
    assert context["refusal_reasons"] == []
    assert (context["captured"], context["max_refundable"], context["shipping_refundable"]) == (
        eur(2880), eur(2880), eur(500))
    assert [(line["refundable_quantity"], line["refundable_amount"]) for line in context["lines"]] == [(2, eur(2380))]
    assert [(p["payment_id"], p["refundable"]) for p in context["payments"]] == [(payment.data["payment_id"], eur(2880))]


async def test_tags_are_added_and_removed_idempotently(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant)
    added = await orders.call("PUT", f"/v1/orders/{order['id']}/tags/Gift%20Wrap", token)
    again = await orders.call("PUT", f"/v1/orders/{order['id']}/tags/gift%20wrap", token)
    assert added.json()["tags"] == again.json()["tags"] == ["gift wrap"]
    assert again.json()["version"] == added.json()["version"] == 2
    removed = await orders.call("DELETE", f"/v1/orders/{order['id']}/tags/GIFT%20WRAP", token)
    assert removed.json()["tags"] == [] and removed.json()["version"] == 3
    longest = await orders.call("PUT", f"/v1/orders/{order['id']}/tags/{'x' * MAX_TAG_LENGTH}", token)
    assert longest.status_code == 200  # what a create-order command may carry, the API takes too
    too_long = await orders.call("PUT", f"/v1/orders/{order['id']}/tags/{'x' * (MAX_TAG_LENGTH + 1)}", token)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "tag"


async def test_a_canceled_order_cannot_be_canceled_again(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant)
    first = await orders.call("POST", f"/v1/orders/{order['id']}/cancel", token)
    second = await orders.call("POST", f"/v1/orders/{order['id']}/cancel", token)
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["payment_status"]) == ("canceled", "voided")
    assert second.status_code == 409 and second.json()["errors"][0]["field"] == "status"


async def test_a_note_with_an_idempotency_key_is_added_once(orders: OrdersService):
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant)
    path, headers = f"/v1/orders/{order['id']}/notes", {"Idempotency-Key": "note-1"}
    first = await orders.call("POST", path, token, json={"body": "Gift"}, headers=headers)
    second = await orders.call("POST", path, token, json={"body": "Gift"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert len(second.json()["notes"]) == 1
    empty = await orders.call("POST", path, token, json={"body": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body"


async def test_the_openapi_document_describes_every_route(orders: OrdersService):
    document = (await orders.client.get("/openapi.json")).json()
    assert {"/v1/orders", "/v1/orders/{order_id}", "/v1/orders/{order_id}/timeline",
            "/v1/orders/{order_id}/refund-context", "/v1/orders/{order_id}/notes", "/v1/orders/{order_id}/tags/{tag}",
            "/v1/orders/{order_id}/metadata", "/v1/orders/{order_id}/cancel"} <= set(document["paths"])
    create = document["paths"]["/v1/orders"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert "OrderRecord" in document["components"]["schemas"]


async def _count(orders: OrdersService, token: str, query: str, expected: int) -> bool:
    return len((await orders.call("GET", f"/v1/orders?{query}", token)).json()["data"]) == expected


async def _version(orders: OrdersService, merchant: str, order_id: str, version: int) -> bool:
    return (await orders.get_order(merchant, order_id))["version"] == version


async def test_an_order_holds_at_most_50_notes_and_100_tags(orders: OrdersService):
    # given an order with 50 notes and 100 tags
    merchant = new_id("mer")
    token = orders.merchant_token(merchant)
    order = await orders.create_order(merchant, order_body(tags=[f"t{i}" for i in range(100)]))
    for i in range(50):  # a token each, to stay within the write rate limit
        added = await orders.call("POST", f"/v1/orders/{order['id']}/notes", orders.merchant_token(merchant),
                                  json={"body": f"n{i}"})
        assert added.status_code == 201
    before = await orders.get_order(merchant, order["id"])
    # when a 51st note and a 101st tag are sent
    note = await orders.call("POST", f"/v1/orders/{order['id']}/notes", token, json={"body": "one more"})
    tag = await orders.call("PUT", f"/v1/orders/{order['id']}/tags/one-more", token)
    # then both are refused and the order is unchanged
    assert (note.status_code, note.json()["code"]) == (422, "too_many_notes")
    assert note.json()["errors"] == [{"field": "notes", "code": "too_many_notes",
                                      "message": "an order holds at most 50 notes"}]
    assert (tag.status_code, tag.json()["code"]) == (422, "validation_failed")
    assert tag.json()["errors"][0]["code"] == "invalid_input"
    assert await orders.get_order(merchant, order["id"]) == before
