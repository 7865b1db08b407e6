"""The client retries only what is safe to repeat, and waits as long as the server asks.

Against a small local server that answers from a script (429 with Retry-After, a 503, a
connection dropped mid-request), since the real services cannot be made to do that on
demand. Requests go over real sockets, with the sync and the async client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from flint_sdk import (
    AsyncFlintClient,
    ClientOptions,
    FlintClient,
    FlintConnectionError,
    InvalidRequestError,
    Money,
    RateLimitedError,
    RetryPolicy,
    UnavailableError,
)
from tests.sdk.scripted_server import DROP, Answer, ScriptedServer, problem

ORDER_PATH = "/v1/orders/ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S"
ORDER = {
    "id": "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", "merchant_id": "mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K", "number": 1001,
    "status": "open", "payment_status": "unpaid", "currency": "EUR", "version": 1,
    "amounts": {name: {"amount": 0, "currency": "EUR"} for name in
                ("total", "captured", "refunded", "refund_pending", "net_paid", "balance_due", "credit")},
    "created_at": "2026-11-27T12:00:00Z", "updated_at": "2026-11-27T12:00:00Z",
}
DUE = date(2026, 12, 11)
_EUR = {"amount": 4880, "currency": "EUR"}
INVOICE = {  # an invoice as the invoicing service answers it (the fields the SDK types, and more)
    "object": "invoice", "id": "inv_01JD3Z6Q0G8V6M4X2K9T7B5N1S", "order_id": "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
    "number": 42, "display_number": "INV-0042", "status": "open", "overdue": False, "currency": "EUR",
    "amount_due": _EUR, "amount_paid": {"amount": 0, "currency": "EUR"}, "amount_remaining": _EUR,
    "due_date": "2026-12-11", "reminder_policy": [-3, 0, 7], "memo": "The balance.",
    "hosted_url": "http://127.0.0.1:8104/pay/3kq9wZ0x", "payment_id": None, "created_at": "2026-11-27T12:00:00Z",
}
RATE_LIMITED = Answer(429, problem(429, "rate_limited"), {"Retry-After": "1"})


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


class Waits:
    """Records the waits a client asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client(server: ScriptedServer, waits: Waits | None = None, **policy: float) -> FlintClient:
    retry = RetryPolicy(sleep=waits.sleep, async_sleep=waits.async_sleep, **policy) if waits else RetryPolicy(**policy)
    return FlintClient.with_token(server.url, "token-1", options=ClientOptions(retry=retry, timeout=5))


def async_client(server: ScriptedServer, waits: Waits, **policy: float) -> AsyncFlintClient:
    retry = RetryPolicy(sleep=waits.sleep, async_sleep=waits.async_sleep, **policy)
    return AsyncFlintClient.with_token(server.url, "token-1", options=ClientOptions(retry=retry, timeout=5))


def test_a_429_is_retried_after_the_seconds_retry_after_asks(server):
    # given the orders API refuses the first request with 429 and Retry-After: 1
    server.script("GET", ORDER_PATH, RATE_LIMITED, Answer(200, ORDER))
    # when the plugin reads the order (the client really sleeps here)
    with client(server) as flint:
        order = flint.orders.get(ORDER["id"])
    # then it gets the order, having asked again no sooner than a second later
    assert order.id == ORDER["id"]
    first, second = server.seen("GET", ORDER_PATH)
    assert second.at - first.at >= 1.0


def test_the_wait_is_retry_after_plus_at_most_ten_percent_jitter(server):
    server.script("GET", ORDER_PATH, Answer(429, problem(429, "rate_limited"), {"Retry-After": "3"}),
                  Answer(429, problem(429, "rate_limited"), {"Retry-After": "2"}), Answer(200, ORDER))
    waits = Waits()
    with client(server, waits) as flint:
        assert flint.orders.get(ORDER["id"]).id == ORDER["id"]
    assert len(waits.seconds) == 2
    assert 3 <= waits.seconds[0] <= 3.3 and 2 <= waits.seconds[1] <= 2.2


async def test_the_async_client_honours_retry_after_too(server):
    server.script("GET", ORDER_PATH, RATE_LIMITED, Answer(200, ORDER))
    waits = Waits()
    async with async_client(server, waits) as flint:
        order = await flint.orders.get(ORDER["id"])
    assert order.id == ORDER["id"] and len(waits.seconds) == 1 and 1 <= waits.seconds[0] <= 1.1


def test_a_429_that_persists_is_raised_with_its_retry_after(server):
    server.script("GET", ORDER_PATH, RATE_LIMITED)
    waits = Waits()
    with client(server, waits, max_attempts=3) as flint, pytest.raises(RateLimitedError) as raised:
        flint.orders.get(ORDER["id"])
    assert (raised.value.status, raised.value.code, raised.value.retry_after) == (429, "rate_limited", 1.0)
    assert len(server.seen("GET", ORDER_PATH)) == 3 and len(waits.seconds) == 2


def test_a_retry_after_longer_than_the_client_waits_is_raised_at_once(server):
    server.script("GET", ORDER_PATH, Answer(429, problem(429, "rate_limited"), {"Retry-After": "3600"}))
    with client(server, Waits(), max_retry_after=60) as flint, pytest.raises(RateLimitedError) as raised:
        flint.orders.get(ORDER["id"])
    assert raised.value.retry_after == 3600 and len(server.seen("GET", ORDER_PATH)) == 1


def test_a_get_is_retried_after_a_503_and_a_dropped_connection(server):
    server.script("GET", ORDER_PATH, Answer(503, problem(503, "service_unavailable")), DROP, Answer(200, ORDER))
    waits = Waits()
    with client(server, waits) as flint:
        assert flint.orders.get(ORDER["id"]).id == ORDER["id"]
    assert len(server.seen("GET", ORDER_PATH)) == 3 and len(waits.seconds) == 2


def test_a_503_that_persists_is_raised_as_unavailable(server):
    server.script("GET", ORDER_PATH, Answer(503, problem(503, "service_unavailable"), {"Retry-After": "1"}))
    with client(server, Waits(), max_attempts=2) as flint, pytest.raises(UnavailableError) as raised:
        flint.orders.get(ORDER["id"])
    assert (raised.value.code, raised.value.retry_after) == ("service_unavailable", 1.0)


def test_a_keyless_post_whose_connection_drops_is_raised_not_retried(server):
    # given the server reads a POST and drops the connection without answering (it may have applied it)
    path = "/v1/invoices/inv_01JD3Z6Q0G8V6M4X2K9T7B5N1S/send"
    server.script("POST", path, DROP, Answer(200, INVOICE))
    waits = Waits()
    # when the plugin sends the invoice without an Idempotency-Key
    with client(server, waits) as flint, pytest.raises(FlintConnectionError):
        flint.invoices.send("inv_01JD3Z6Q0G8V6M4X2K9T7B5N1S")
    # then the error is raised after one request: a second send could email the buyer twice
    [request] = server.seen("POST", path)
    assert "idempotency-key" not in {name.lower() for name in request.headers}
    assert waits.seconds == []


async def test_the_async_client_does_not_retry_a_keyless_post_either(server):
    path = "/v1/invoices/inv_01JD3Z6Q0G8V6M4X2K9T7B5N1S/remind"
    server.script("POST", path, DROP, Answer(200, INVOICE))
    async with async_client(server, Waits()) as flint:
        with pytest.raises(FlintConnectionError):
            await flint.invoices.remind("inv_01JD3Z6Q0G8V6M4X2K9T7B5N1S")
    assert len(server.seen("POST", path)) == 1


def test_a_create_is_retried_with_the_same_idempotency_key(server):
    # given the first create's connection drops, then the server answers
    created = INVOICE
    server.script("POST", "/v1/invoices", DROP, Answer(503, problem(503, "service_unavailable")), Answer(201, created))
    # when the plugin creates an invoice (the client adds a key of its own)
    with client(server, Waits()) as flint:
        invoice = flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE)
    # then it was sent three times with one key, so the server applies it at most once
    assert invoice.id == created["id"]
    keys = [r.headers.get("Idempotency-Key") for r in server.seen("POST", "/v1/invoices")]
    assert len(keys) == 3 and len(set(keys)) == 1 and keys[0]


def test_two_creates_get_two_keys(server):
    created = INVOICE
    server.script("POST", "/v1/invoices", Answer(201, created))
    with client(server, Waits()) as flint:
        flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE)
        flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE, idempotency_key="mine-1")
        flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE)
    keys = [r.headers.get("Idempotency-Key") for r in server.seen("POST", "/v1/invoices")]
    assert len(set(keys)) == 3 and keys[1] == "mine-1"


def test_a_422_is_raised_at_once(server):
    errors = [{"field": "amount", "code": "too_small", "message": "must be at least 1"}]
    server.script("POST", "/v1/invoices", Answer(422, problem(422, "validation_failed", errors=errors,
                                                               correlation_id="req_1")))
    waits = Waits()
    with client(server, waits) as flint, pytest.raises(InvalidRequestError) as raised:
        flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE)
    assert raised.value.code == "validation_failed" and raised.value.correlation_id == "req_1"
    assert [(e.field, e.code) for e in raised.value.errors] == [("amount", "too_small")]
    assert waits.seconds == [] and len(server.seen("POST", "/v1/invoices")) == 1


def test_an_invoice_is_created_with_its_due_date_reminders_and_memo_and_read_typed(server):
    server.script("POST", "/v1/invoices", Answer(201, INVOICE))
    with client(server, Waits()) as flint:
        invoice = flint.invoices.create("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", due_date=DUE, reminder_policy=(-3, 0, 7),
                                        memo="The balance.")
    [request] = server.seen("POST", "/v1/invoices")
    assert json.loads(request.body) == {"order_id": "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S", "due_date": "2026-12-11",
                                        "reminder_policy": [-3, 0, 7], "memo": "The balance."}
    assert (invoice.display_number, invoice.amount_due, invoice.due_date) == ("INV-0042", Money(**_EUR), DUE)
    assert invoice.hosted_url == INVOICE["hosted_url"] and not invoice.overdue
