"""Every refund the service must refuse: the answer (status and problem code), and that nothing
was stored: no refund, no event in the outbox, no money moved on the processor."""

from __future__ import annotations

from typing import Any

import pytest

from flint_contracts.ids import new_id
from tests.orders.service import eur
from tests.refunds.service import RefundsService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def stored(refunds: RefundsService, order_id: str, charge: str | None = None) -> tuple[int, int, int]:
    """Refunds of the order, events in the outbox about it, and refunds on the processor."""
    count = await refunds.pool.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", order_id)
    events = await refunds.pool.fetchval("SELECT count(*) FROM flint_outbox WHERE key = $1::text::bytea", order_id)
    moved = len(await refunds.ledger_refunds(charge)) if charge else 0
    return count, events, moved


async def refused(refunds: RefundsService, token: str, body: dict[str, Any], order_id: str, charge: str | None,
                  status: int, code: str, **kw: Any) -> dict[str, Any]:
    """Sends the refund and checks it is refused with ``status`` and ``code``, storing nothing."""
    before = await stored(refunds, order_id, charge)
    response = await refunds.refund(token, body, **kw)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/problem+json"), \
        response.text
    problem = response.json()
    assert problem["code"] == code, problem
    assert await stored(refunds, order_id, charge) == before
    return problem


def line_of(order: dict[str, Any], index: int = 0) -> str:
    return order["line_items"][index]["id"]


@pytest.mark.parametrize(("story", "status", "code"), [
    ("more than was captured", 409, "exceeds_refundable"),
    ("more items than were bought", 409, "line_quantity_exceeded"),
    ("more shipping than was charged", 409, "shipping_exceeded"),
    ("more than the named payment has", 409, "payment_exceeded"),
    ("an amount in another currency", 422, "currency_mismatch"),
    ("shipping in another currency", 422, "currency_mismatch"),
    ("a line of another order", 422, "unknown_line"),
    ("the same line twice", 422, "duplicate_line"),
    ("a payment of another order", 422, "unknown_payment"),
    ("nothing at all", 422, "nothing_to_refund"),
])
async def test_a_refund_the_rules_refuse_is_a_problem_naming_why_and_stores_nothing(
    refunds: RefundsService, story: str, status: int, code: str
):
    # given an order of 2 mugs (23.80) + 5.00 shipping, paid 28.80 in two payments
    merchant = new_id("mer")
    order, [payment, _] = await refunds.paid_order(merchant, payments=[1000, 1880])
    mugs = line_of(order)
    body = {"order_id": order["id"], "reason": "requested_by_customer"} | {
        "more than was captured": {"amount": eur(2881)},
        "more items than were bought": {"lines": [{"line_item_id": mugs, "quantity": 3}]},
        "more shipping than was charged": {"shipping": eur(501)},
        "more than the named payment has": {"amount": eur(1001), "payment_id": payment["payment_id"]},
        "an amount in another currency": {"amount": {"amount": 100, "currency": "USD"}},
        "shipping in another currency": {"shipping": {"amount": 100, "currency": "USD"}},
        "a line of another order": {"lines": [{"line_item_id": new_id("lin"), "quantity": 1}]},
        "the same line twice": {"lines": [{"line_item_id": mugs, "quantity": 1}, {"line_item_id": mugs, "quantity": 1}]},
        "a payment of another order": {"amount": eur(100), "payment_id": new_id("pay")},
        "nothing at all": {},
    }[story]

    # when / then
    problem = await refused(refunds, refunds.app_token(merchant), body, order["id"], payment["processor_reference"],
                            status, code)
    assert code in [error["code"] for error in problem["errors"]]
    assert problem["detail"]


async def test_an_unpaid_order_refunds_nothing(refunds: RefundsService):
    merchant = new_id("mer")
    order = await refunds.orders.create_order(merchant)
    await refunds.known(order["id"], 0)
    problem = await refused(refunds, refunds.app_token(merchant), {"order_id": order["id"], "reason": "other",
                                                                   "amount": eur(100)}, order["id"], None, 409, "not_paid")
    assert problem["errors"] == [{"field": "body", "code": "not_paid",
                                  "message": "No payment has been captured on this order."}]


async def test_an_order_canceled_before_any_payment_refunds_nothing(refunds: RefundsService):
    merchant = new_id("mer")
    order = await refunds.orders.create_order(merchant)
    canceled = await refunds.orders.call("POST", f"/v1/orders/{order['id']}/cancel",
                                         refunds.orders.merchant_token(merchant))
    assert canceled.status_code == 200, canceled.text

    async def voided() -> bool:
        return await refunds.pool.fetchval("SELECT canceled FROM order_money WHERE order_id = $1", order["id"]) is True

    await eventually(voided, message="the cancel to reach refunds")
    await refused(refunds, refunds.app_token(merchant), {"order_id": order["id"], "reason": "other",
                                                         "amount": eur(100)}, order["id"], None, 409, "order_voided")


async def test_items_already_refunded_cannot_be_refunded_again(refunds: RefundsService):
    # given an order whose two mugs were refunded
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    token = refunds.app_token(merchant)
    both = {"order_id": order["id"], "reason": "returned_items", "lines": [{"line_item_id": line_of(order), "quantity": 2}]}
    first = await refunds.refund(token, both)
    assert (first.status_code, first.json()["status"]) == (201, "succeeded"), first.text
    # when one of them is asked again, then it is refused and nothing more moves
    again = {**both, "lines": [{"line_item_id": line_of(order), "quantity": 1}]}
    problem = await refused(refunds, token, again, order["id"], payment["processor_reference"], 409,
                            "line_quantity_exceeded")
    assert problem["errors"][0]["field"] == "lines.0.quantity"


async def test_another_merchants_order_is_not_found(refunds: RefundsService):
    merchant, stranger = new_id("mer"), new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    body = {"order_id": order["id"], "reason": "other", "amount": eur(100)}
    await refused(refunds, refunds.app_token(stranger), body, order["id"], payment["processor_reference"], 404,
                  "not_found")
    quoted = await refunds.call("POST", "/v1/refunds/quote", refunds.app_token(stranger),
                                json={"order_id": order["id"], "amount": eur(100)})
    assert (quoted.status_code, quoted.json()["code"]) == (404, "not_found")


async def test_a_token_without_refunds_write_is_forbidden(refunds: RefundsService):
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    body = {"order_id": order["id"], "reason": "other", "amount": eur(100)}
    for scopes in ("refunds:read orders:read orders:write", "orders:read"):
        await refused(refunds, refunds.app_token(merchant, scopes), body, order["id"], payment["processor_reference"],
                      403, "insufficient_scope")
    await refused(refunds, None, body, order["id"], payment["processor_reference"], 401, "invalid_token")


async def test_an_idempotency_key_reused_with_another_body_is_refused(refunds: RefundsService):
    # given a refund made with a key
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    token = refunds.app_token(merchant)
    key = {"Idempotency-Key": f"refund-{new_id('evt')}"}
    body = {"order_id": order["id"], "reason": "goodwill", "amount": eur(100)}
    assert (await refunds.refund(token, body, headers=key)).status_code == 201
    # when the key comes again with another amount, then it is refused and nothing more is stored
    problem = await refused(refunds, token, {**body, "amount": eur(200)}, order["id"], payment["processor_reference"],
                            422, "idempotency_key_reused", headers=key)
    assert problem["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"shiping": "remaining"}, "shiping", "unknown_field"),
    ({"reason": None}, "reason", "not_allowed"),
    ({"reason": "changed_mind"}, "reason", "not_allowed"),
    ({"note": "a\u0000b"}, "note", "invalid_text"),
    ({"note": ""}, "note", "too_short"),
    ({"order_id": "ord_42"}, "order_id", "pattern_mismatch"),
    ({"amount": {"amount": -100, "currency": "EUR"}}, "amount", "value_error"),
    ({"amount": {"amount": 1.5, "currency": "EUR"}}, "amount.amount", "not_an_integer"),
    ({"amount": {"amount": 100, "currency": "XXX"}}, "amount.currency", "value_error"),
    ({"lines": [{"line_item_id": "lin_1", "quantity": 0}]}, "lines.0.quantity", "too_small"),
])
async def test_a_malformed_refund_is_invalid_and_stores_nothing(refunds: RefundsService, change, field, code):
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    body = {"order_id": order["id"], "reason": "other", "amount": eur(100)} | change
    problem = await refused(refunds, refunds.app_token(merchant), body, order["id"], payment["processor_reference"],
                            422, "validation_failed")
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem["errors"]
