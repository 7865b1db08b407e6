"""Who may see and change an order: tokens, scopes, merchants, installs and app namespaces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import InstallData, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.topics import INSTALLS_EVENTS
from tests.orders.service import OrdersService, order_body
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_another_merchants_order_is_not_found_rather_than_forbidden(orders: OrdersService):
    # given an order of one merchant
    order = await orders.create_order(new_id("mer"))
    other = orders.app_token(new_id("mer"), "orders:read orders:write")
    # when another merchant's app asks for it, or acts on it
    reads = [await orders.call("GET", f"/v1/orders/{order['id']}{tail}", other)
             for tail in ("", "/timeline", "/refund-context")]
    writes = [await orders.call("POST", f"/v1/orders/{order['id']}/notes", other, json={"body": "hi"}),
              await orders.call("PUT", f"/v1/orders/{order['id']}/tags/vip", other),
              await orders.call("PUT", f"/v1/orders/{order['id']}/metadata", other, json={"a": 1}),
              await orders.call("POST", f"/v1/orders/{order['id']}/cancel", other)]
    # then every answer is the same 404 a missing order gets
    assert [r.status_code for r in reads + writes] == [404] * 7
    missing = await orders.call("GET", f"/v1/orders/{new_id('ord')}", other)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert await orders.get_order(order["merchant_id"], order["id"]) == order  # and nothing changed


async def test_a_token_without_orders_read_is_forbidden(orders: OrdersService):
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    token = orders.app_token(merchant, "refunds:read orders:write")
    response = await orders.call("GET", f"/v1/orders/{order['id']}", token)
    assert response.status_code == 403
    assert response.json()["detail"] == "this call needs orders:read"
    assert (await orders.call("GET", "/v1/orders", token)).status_code == 403


async def test_a_token_without_orders_write_cannot_change_an_order(orders: OrdersService):
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    token = orders.app_token(merchant, "orders:read")
    response = await orders.call("POST", f"/v1/orders/{order['id']}/notes", token, json={"body": "hi"})
    assert response.status_code == 403 and "orders:write" in response.json()["detail"]


async def test_the_token_of_an_uninstalled_app_is_refused_at_once(orders: OrdersService):
    # given an installed app reading an order
    merchant, install_id, app_id = new_id("mer"), new_id("ins"), new_id("app")
    order = await orders.create_order(merchant)
    token = orders.app_token(merchant, "orders:read", install_id=install_id, app_id=app_id)
    assert (await orders.call("GET", f"/v1/orders/{order['id']}", token)).status_code == 200
    # when the merchant uninstalls it (installs publishes install.uninstalled)
    data = InstallData(install_id=install_id, app_id=app_id, merchant_id=merchant, scopes=["orders:read"],
                       status="uninstalled", occurred_at=datetime.now(UTC))
    await orders.publish(INSTALLS_EVENTS, build_envelope(types.INSTALL_UNINSTALLED, data, source="flint.installs"))

    # then its unexpired token is refused as soon as orders has consumed the event
    async def refused():
        response = await orders.call("GET", f"/v1/orders/{order['id']}", token)
        return response if response.status_code == 401 else None

    response = await eventually(refused, message="the uninstalled app's token to be refused")
    assert response.json()["detail"] == "the app was uninstalled"


async def test_apps_read_orders_but_only_the_merchant_creates_them(orders: OrdersService):
    merchant = new_id("mer")
    app_token = orders.app_token(merchant, "orders:read orders:write")
    response = await orders.call("POST", "/v1/orders", app_token, json=order_body())
    assert response.status_code == 403
    assert "not by apps" in response.json()["detail"]
    no_write = await orders.call("POST", "/v1/orders", orders.merchant_token(merchant, "orders:read"), json=order_body())
    assert no_write.status_code == 403


async def test_an_app_writes_only_its_own_metadata_namespace_and_reads_the_others(orders: OrdersService):
    # given an order and two apps installed by its merchant
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    loyalty, shipping = new_id("app"), new_id("app")
    loyalty_token = orders.app_token(merchant, app_id=loyalty)
    shipping_token = orders.app_token(merchant, app_id=shipping)
    path = f"/v1/orders/{order['id']}/metadata"
    # when each writes its metadata, and the loyalty app writes again
    await orders.call("PUT", path, loyalty_token, json={"points": 120})
    await orders.call("PUT", path, shipping_token, json={"carrier": "DHL", "tracking": "JD0001"})
    response = await orders.call("PUT", path, loyalty_token, json={"points": 150, "tier": "gold"})
    # then each namespace holds what its app wrote; a write replaced only the writer's own
    assert response.status_code == 200
    assert response.json()["metadata"] == {loyalty: {"points": 150, "tier": "gold"},
                                           shipping: {"carrier": "DHL", "tracking": "JD0001"}}
    # and both apps read both namespaces
    seen = await orders.call("GET", f"/v1/orders/{order['id']}", shipping_token)
    assert seen.json()["metadata"][loyalty] == {"points": 150, "tier": "gold"}
    # and an empty object removes the caller's namespace only
    cleared = await orders.call("PUT", path, shipping_token, json={})
    assert cleared.json()["metadata"] == {loyalty: {"points": 150, "tier": "gold"}}
    # and the merchant's own token has no namespace to write
    merchant_write = await orders.call("PUT", path, orders.merchant_token(merchant), json={"x": 1})
    assert merchant_write.status_code == 403
    # and each change is on the timeline as the app's
    timeline = (await orders.call("GET", f"/v1/orders/{order['id']}/timeline", loyalty_token)).json()["data"]
    assert [(e["type"], e["actor"]["id"]) for e in timeline[1:]] == [
        ("order.metadata_updated", loyalty), ("order.metadata_updated", shipping),
        ("order.metadata_updated", loyalty), ("order.metadata_updated", shipping)]


async def test_metadata_must_be_a_json_object_of_bounded_size(orders: OrdersService):
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    token = orders.app_token(merchant)
    path = f"/v1/orders/{order['id']}/metadata"
    not_object = await orders.call("PUT", path, token, json=[1, 2])
    too_big = await orders.call("PUT", path, token, json={"blob": "x" * 20_000})
    assert (not_object.status_code, too_big.status_code) == (422, 422)
    assert too_big.json()["errors"][0]["field"] == "metadata"


async def test_repeated_reads_with_one_token_get_the_same_answers_as_the_first(orders: OrdersService):
    # given an order, a reader, a token lacking orders:read and another merchant's reader
    merchant = new_id("mer")
    order = await orders.create_order(merchant)
    path = f"/v1/orders/{order['id']}"
    reader = orders.app_token(merchant, "orders:read")
    no_scope = orders.app_token(merchant, "orders:write")
    stranger = orders.app_token(new_id("mer"), "orders:read")
    # when each reads three times (after the first, the token's signature is not checked again)
    answers = {name: [await orders.call("GET", path, token) for _ in range(3)]
               for name, token in (("reader", reader), ("no_scope", no_scope), ("stranger", stranger))}
    # then every answer is the first one's
    assert [r.status_code for r in answers["reader"]] == [200, 200, 200]
    assert all(r.json() == order and r.headers["content-type"] == "application/json" for r in answers["reader"])
    assert all(r.headers["x-correlation-id"] for r in answers["reader"])
    assert [r.status_code for r in answers["no_scope"]] == [403, 403, 403]
    assert [r.status_code for r in answers["stranger"]] == [404, 404, 404]
    forged = reader[: reader.rindex(".") + 1] + ("A" if reader[-1] != "A" else "B") * 10
    assert (await orders.call("GET", path, forged)).status_code == 401
