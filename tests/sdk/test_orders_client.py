"""A plugin (and a merchant's backend) working with orders through the SDK, against the real
installs and orders services on real sockets: typed answers, pages, idempotent creates, and
typed errors carrying the API's problem code."""

from __future__ import annotations

import httpx
import pytest

from flint_contracts.money import Money
from flint_sdk import (
    AsyncFlintClient,
    AuthenticationError,
    ConflictError,
    FlintClient,
    InvalidRequestError,
    NotFoundError,
    OAuthError,
    Order,
    PermissionDeniedError,
)
from tests.sdk.conftest import install
from tests.sdk.platform import create_merchant, order_body

pytestmark = pytest.mark.integration


def merchant_client(flint, merchant, **kwargs) -> FlintClient:
    return FlintClient.for_merchant(flint.installs_url, merchant["id"], merchant["secret_key"], **kwargs)


def async_merchant_client(flint, merchant) -> AsyncFlintClient:
    return AsyncFlintClient.for_merchant(flint.installs_url, merchant["id"], merchant["secret_key"])


# --- reading ----------------------------------------------------------------------------------------


async def test_iterate_walks_every_page_of_orders_newest_first(flint, merchant):
    # given a merchant with 25 orders
    async with async_merchant_client(flint, merchant) as client:
        created = [(await client.orders.create(order_body())).id for _ in range(25)]
        # when a plugin reads them 10 at a time
        first = await client.orders.list(limit=10)
        walked = [order.id async for order in client.orders.iterate(limit=10)]
    # then the first page says more follow, and the walk returns each order once, newest first
    assert first.has_more and first.next_cursor and [o.id for o in first.data] == created[::-1][:10]
    assert walked == created[::-1]


def test_the_blocking_client_pages_with_filters(flint, merchant):
    with merchant_client(flint, merchant) as client:
        tagged = [client.orders.create(order_body(tags=["wholesale"])).id for _ in range(3)]
        client.orders.create(order_body())
        pages = [client.orders.list(tag="wholesale", limit=2)]
        pages.append(client.orders.list(tag="wholesale", limit=2, starting_after=pages[0].next_cursor))
    assert [len(p.data) for p in pages] == [2, 1] and [p.has_more for p in pages] == [True, False]
    assert [o.id for p in pages for o in p.data] == tagged[::-1]


async def test_an_orders_timeline_pages_in_sequence_order(flint, merchant):
    async with async_merchant_client(flint, merchant) as client:
        order = await client.orders.create(order_body())
        for text in ("one", "two", "three", "four"):
            await client.orders.add_note(order.id, text)
        entries = [entry async for entry in client.orders.iterate_timeline(order.id, limit=2)]
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert [e.type for e in entries] == ["order.created"] + ["order.note_added"] * 4


def test_an_installed_app_reads_and_acts_on_an_order(flint, merchant):
    # given an order of the merchant, and an app the merchant installed
    with merchant_client(flint, merchant) as backend:
        order_id = backend.orders.create(order_body()).id
    app = install(flint, merchant)
    with FlintClient.for_app(flint.installs_url, app.client_id, app.client_secret, tokens=app.tokens) as client:
        # when the app notes, tags, keeps its data and reads the refund context
        client.orders.add_note(order_id, "Balance chased")
        client.orders.add_tag(order_id, "chased")
        client.orders.set_metadata(order_id, {"reminders": 1})
        context = client.orders.refund_context(order_id)
        order = client.orders.get(order_id)
        own = client.installs.own()
    # then the order shows each change, typed
    assert isinstance(order, Order) and order.tags == ["chased"]
    assert order.metadata == {app.app["id"]: {"reminders": 1}}
    assert [note["body"] for note in order.notes] == ["Balance chased"]
    assert order.amounts.balance_due == Money(amount=2880, currency="EUR")
    assert context.max_refundable == Money(amount=0, currency="EUR")
    assert (own.app_id, own.merchant_id, own.status) == (app.app["id"], merchant["id"], "active")


# --- idempotent creates -----------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_create(flint, merchant):
    with merchant_client(flint, merchant) as client:
        first = client.orders.create(order_body(), idempotency_key="order-1001")
        again = client.orders.create(order_body(), idempotency_key="order-1001")
        listed = client.orders.list()
    assert again.id == first.id and again.number == first.number
    assert [o.id for o in listed.data] == [first.id]


def test_the_same_key_with_another_body_is_refused(flint, merchant):
    with merchant_client(flint, merchant) as client:
        client.orders.create(order_body(), idempotency_key="order-1001")
        with pytest.raises(InvalidRequestError) as raised:
            client.orders.create(order_body(tags=["other"]), idempotency_key="order-1001")
    assert (raised.value.status, raised.value.code) == (422, "idempotency_key_reused")


class LoseFirstAnswer(httpx.BaseTransport):
    """Delivers requests, but loses the answer to the first create (a connection reset after
    the server committed it)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.creates: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/orders":
            self.creates.append(request)
            if len(self.creates) == 1:
                response.read()
                response.close()
                raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_create_whose_answer_is_lost_is_retried_and_creates_one_order(flint, merchant):
    # given the answer to the first create never reaches the client
    transport = LoseFirstAnswer()
    with merchant_client(flint, merchant, transport=transport) as client:
        # when the merchant's backend creates an order (no key given: the SDK makes one)
        order = client.orders.create(order_body())
        listed = client.orders.list()
    # then the SDK sent it again with the same key, and the service made one order
    keys = [request.headers["Idempotency-Key"] for request in transport.creates]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert [o.id for o in listed.data] == [order.id]


# --- typed errors -----------------------------------------------------------------------------------


async def test_an_unknown_token_is_a_401_with_its_code(flint):
    async with AsyncFlintClient.with_token(flint.installs_url, "not-a-token") as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.orders.get("ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S")
    assert (raised.value.status, raised.value.code) == (401, "invalid_token")
    assert raised.value.correlation_id and raised.value.detail


def test_a_wrong_merchant_secret_is_refused_by_the_token_endpoint(flint, merchant):
    with FlintClient.for_merchant(flint.installs_url, merchant["id"], "sk_wrong") as client:
        with pytest.raises(OAuthError) as raised:
            client.orders.list()
    assert (raised.value.status, raised.value.code) == (401, "invalid_client")


def test_missing_scope_and_wrong_caller_are_403s_with_their_codes(flint, merchant):
    with merchant_client(flint, merchant) as backend:
        order_id = backend.orders.create(order_body()).id
        with pytest.raises(PermissionDeniedError) as merchant_writes_metadata:
            backend.orders.set_metadata(order_id, {"a": 1})
    reader = install(flint, merchant, scopes=["orders:read"])
    with FlintClient.for_app(flint.installs_url, reader.client_id, reader.client_secret, tokens=reader.tokens) as app:
        with pytest.raises(PermissionDeniedError) as app_without_write:
            app.orders.add_note(order_id, "not allowed")
        assert app.orders.get(order_id).notes == []
    assert (merchant_writes_metadata.value.status, merchant_writes_metadata.value.code) == (403, "app_only")
    assert (app_without_write.value.status, app_without_write.value.code) == (403, "insufficient_scope")


def test_another_merchants_order_is_not_found(flint, merchant):
    with merchant_client(flint, merchant) as mine:
        order_id = mine.orders.create(order_body()).id
    with merchant_client(flint, create_merchant(flint, "Other Shop")) as theirs:
        with pytest.raises(NotFoundError) as raised:
            theirs.orders.get(order_id)
    assert (raised.value.status, raised.value.code) == (404, "not_found")


def test_totals_that_do_not_add_up_are_a_422_naming_the_field(flint, merchant):
    with merchant_client(flint, merchant) as client:
        with pytest.raises(InvalidRequestError) as raised:
            client.orders.create(order_body(total={"amount": 1, "currency": "EUR"}))
        assert client.orders.list().data == []
    assert (raised.value.status, raised.value.code) == (422, "totals_mismatch")
    assert [e.field for e in raised.value.errors] == ["total"]


def test_canceling_twice_is_a_409_conflict(flint, merchant):
    with merchant_client(flint, merchant) as client:
        order_id = client.orders.create(order_body()).id
        canceled = client.orders.cancel(order_id, reason="customer asked")
        with pytest.raises(ConflictError) as raised:
            client.orders.cancel(order_id)
    assert canceled.status == "canceled"
    assert (raised.value.status, raised.value.code) == (409, "invalid_transition")
