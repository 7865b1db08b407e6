"""Issue 9's reproductions, as a plugin's SDK meets them: over a real HTTP server and one
keep-alive connection. Each bad request gets its status and stable ``code`` as
problem+json, nothing it touched is stored, and the next request on the same connection
succeeds."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from flint_chassis.logs import JsonFormatter
from flint_contracts.ids import new_id
from flint_contracts.money import MAX_AMOUNT
from flint_orders import repository
from tests.orders.service import OrdersService, eur, order_body
from tests.support.http_server import OneConnection

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MUG = {"title": "Mug", "quantity": 2, "unit_price": eur(1000), "tax": eur(380)}
BIG = 2**30


def _line(**changes: Any) -> dict:
    return {**MUG, **changes}


# (name, method, path ({order} is the merchant's order), keyword arguments, status, code, field)
CASES = [
    ("nul-in-line-title", "POST", "/v1/orders", {"json": order_body(line_items=[_line(title="Tent\u0000X")])},
     422, "validation_failed", "line_items.0.title"),
    ("lone-surrogate-in-title", "POST", "/v1/orders",
     {"content": b'{"customer":{"email":"a@example.com"},"currency":"EUR","line_items":[{"title":"Tent\\ud800",'
                 b'"quantity":1,"unit_price":{"amount":1,"currency":"EUR"}}]}',
      "headers": {"content-type": "application/json", "Idempotency-Key": "surrogate-1"}},
     422, "validation_failed", "line_items.0.title"),
    ("nul-in-customer-name", "POST", "/v1/orders",
     {"json": order_body(customer={"email": "ada@example.com", "name": "A\u0000da"})},
     422, "validation_failed", "customer.name"),
    ("quantity-times-price-past-the-bound", "POST", "/v1/orders",
     {"json": order_body(line_items=[_line(quantity=BIG, unit_price=eur(BIG), tax=None)])},
     422, "validation_failed", "line_items.0.quantity"),
    ("two-lines-past-the-bound", "POST", "/v1/orders",
     {"json": order_body(line_items=[_line(quantity=1, unit_price=eur(MAX_AMOUNT), tax=None)] * 2)},
     422, "validation_failed", "line_items"),
    ("malformed-json", "POST", "/v1/orders", {"content": b'{"customer": {', "headers": {"content-type": "application/json"}},
     400, "malformed_json", None),
    ("wrong-content-type", "POST", "/v1/orders",
     {"content": json.dumps(order_body()).encode(), "headers": {"content-type": "text/plain"}},
     415, "unsupported_media_type", None),
    ("body-over-1-mib", "POST", "/v1/orders",
     {"content": b'{"note": "' + b"x" * (20 << 20) + b'"}', "headers": {"content-type": "application/json"}},
     413, "payload_too_large", None),
    ("nul-in-note", "POST", "/v1/orders/{order}/notes", {"json": {"body": "hi\u0000"}},
     422, "validation_failed", "body"),
    ("nul-in-cancel-reason", "POST", "/v1/orders/{order}/cancel", {"json": {"reason": "no\u0000"}},
     422, "validation_failed", "reason"),
    ("nul-in-tag", "PUT", "/v1/orders/{order}/tags/a%00b", {}, 422, "validation_failed", "tag"),
    ("nul-in-metadata", "PUT", "/v1/orders/{order}/metadata", {"json": {"a": "x\u0000"}, "app": True},
     422, "validation_failed", "a"),
    ("metadata-integer-past-64-bits", "PUT", "/v1/orders/{order}/metadata",
     {"content": b'{"a": 18446744073709551616}', "headers": {"content-type": "application/json"}, "app": True},
     422, "validation_failed", "a"),
    ("metadata-500-levels-deep", "PUT", "/v1/orders/{order}/metadata",
     {"content": b'{"a": ' + b"[" * 500 + b"]" * 500 + b"}", "headers": {"content-type": "application/json"},
      "app": True}, 422, "validation_failed", "a" + ".0" * 31),
    ("timeline-cursor-past-int4", "GET", "/v1/orders/{order}/timeline?starting_after=2147483648", {},
     422, "validation_failed", "starting_after"),
    ("created-before-the-year-1", "GET", "/v1/orders?created_gte=0001-01-01T00:00:00%2B14:00", {},
     422, "validation_failed", "created_gte"),
    ("epoch-number-as-a-date", "GET", "/v1/orders?created_lt=0.5", {}, 422, "validation_failed", "created_lt"),
    ("nul-in-email-filter", "GET", "/v1/orders?customer_email=a%00b", {}, 422, "validation_failed", "customer_email"),
    ("nul-in-tag-filter", "GET", "/v1/orders?tag=a%00b", {}, 422, "validation_failed", "tag"),
    ("repeated-filter", "GET", "/v1/orders?status=open&status=canceled", {}, 422, "validation_failed", "status"),
    ("unknown-parameter", "GET", "/v1/orders/{order}?expand=everything", {}, 422, "validation_failed", "expand"),
]


async def _stored(orders: OrdersService, merchant: str) -> dict[str, Any]:
    """What a bad request must not change: the merchant's orders, their timelines, the outbox."""
    docs = await orders.pool.fetch("SELECT id, doc::text FROM orders WHERE merchant_id = $1 ORDER BY id", merchant)
    ids = [r["id"] for r in docs]
    timeline = await orders.pool.fetchval("SELECT count(*) FROM order_timeline WHERE order_id = ANY($1)", ids)
    outbox = await orders.pool.fetchval("SELECT count(*) FROM flint_outbox WHERE key = ANY($1::bytea[])",
                                        [i.encode() for i in ids])
    keys = await orders.pool.fetchval("SELECT count(*) FROM flint_idempotency_keys WHERE caller LIKE $1", f"{merchant}/%")
    return {"orders": [tuple(r) for r in docs], "timeline": timeline, "outbox": outbox, "keys": keys}


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code", "field"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_bad_input_is_a_problem_that_stores_nothing_and_keeps_the_connection(
    orders: OrdersService, orders_url: str, method, path, kwargs, status, code, field,
):
    # given a merchant with one order, and a client on one keep-alive connection
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    kwargs = dict(kwargs)
    token = orders.app_token(merchant) if kwargs.pop("app", False) else orders.merchant_token(merchant)
    auth = {"Authorization": f"Bearer {token}"}
    before = await _stored(orders, merchant)
    async with OneConnection(orders_url) as http:
        # when the bad request is sent
        response = await http.request(method, path.format(order=order["id"]),
                                      headers={**auth, **kwargs.pop("headers", {})}, **kwargs)
        # then it is the documented problem
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == code and problem["type"] == f"https://flint.dev/problems/{code}"
        assert problem["correlation_id"] == response.headers["x-correlation-id"]
        if field is not None:
            assert field in [e["field"] for e in problem["errors"]], problem
        # and nothing was stored
        assert await _stored(orders, merchant) == before
        # and the next request on the same connection succeeds
        after = await http.request("GET", f"/v1/orders/{order['id']}", headers=auth)
        assert after.status_code == 200 and after.json()["id"] == order["id"]
        assert http.still_one_connection()


async def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read_whole(orders: OrdersService, orders_url: str):
    merchant = new_id("mer")
    auth = {"Authorization": f"Bearer {orders.merchant_token(merchant)}"}

    async def chunks():
        yield b'{"note": "'
        for _ in range(40):
            yield b"x" * (1 << 19)  # 20 MiB in all, no Content-Length

    async with OneConnection(orders_url) as http:
        response = await http.request("POST", "/v1/orders", headers={**auth, "content-type": "application/json"},
                                      content=chunks())
        assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
        listed = await http.request("GET", "/v1/orders", headers=auth)
        assert listed.status_code == 200 and listed.json()["data"] == []


async def test_an_unexpected_error_is_a_500_problem_with_the_correlation_id_and_nothing_leaked(
    orders: OrdersService, orders_url: str, monkeypatch,
):
    # given a read that fails in a way nobody planned for
    async def broken(*args: Any) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(repository, "order_json", broken)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter("orders"))
    logging.getLogger("flint.http").addHandler(handler)
    merchant = new_id("mer")
    auth = {"Authorization": f"Bearer {orders.merchant_token(merchant)}", "X-Correlation-Id": "req-test-500"}
    try:
        async with OneConnection(orders_url) as http:
            # when it is read
            response = await http.request("GET", f"/v1/orders/{new_id('ord')}", headers=auth)
            # then the caller gets a problem with the correlation id and no detail
            assert response.status_code == 500
            assert response.headers["x-correlation-id"] == "req-test-500"
            problem = response.json()
            assert (problem["code"], problem["correlation_id"]) == ("internal_error", "req-test-500")
            assert "secret-internal-detail" not in response.text and "Traceback" not in response.text
            # and the next request on the connection is answered
            monkeypatch.undo()
            assert (await http.request("GET", "/healthz")).status_code == 200
            assert http.still_one_connection()
    finally:
        logging.getLogger("flint.http").removeHandler(handler)
    # and the log line has the traceback under the request's correlation id
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert any(e["correlation_id"] == "req-test-500" and "secret-internal-detail" in e.get("error", "")
               for e in logged), logged


async def test_options_lists_every_method_of_the_path(orders: OrdersService, orders_url: str):
    async with OneConnection(orders_url) as http:
        options = await http.request("OPTIONS", "/v1/orders")
        wrong = await http.request("PATCH", "/v1/orders")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, OPTIONS, POST"
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET, OPTIONS, POST"
