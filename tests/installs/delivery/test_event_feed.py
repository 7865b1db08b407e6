"""The install's event feed, ``GET /v1/events?after=&limit=``: what the router gave the install,
oldest first, byte for byte, page after page, then what arrives later; nothing of another
install; 30 days kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from flint_contracts import event_types as types
from flint_installs import handlers
from flint_installs.delivery.router import route_event
from tests.installs.delivery import events
from tests.installs.delivery.apps import InstalledApp, install_app
from tests.installs.support import Flint

pytestmark = pytest.mark.integration


async def _route(flint: Flint, event, *, now: datetime | None = None) -> None:
    async with flint.pool.acquire() as conn, conn.transaction():
        await route_event(conn, event, event.to_bytes(), now=now or datetime.now(UTC))


async def _read_all(plugin: InstalledApp, after: str | None = None, limit: int = 2) -> tuple[list[dict], str | None]:
    seen: list[dict] = []
    while True:
        params = {"limit": limit} | ({"after": after} if after else {})
        response = await plugin.call("GET", "/v1/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["data"]
        after = page["next_cursor"] or after
        if not page["has_more"]:
            return seen, after


async def test_the_feed_gives_the_installs_events_in_order_page_by_page_then_what_comes_later(flint):
    # given an app installed by a merchant, and five events routed to it
    plugin = await install_app(flint, ["orders:read", "refunds:read"])
    merchant = plugin.merchant["id"]
    routed = [events.order_event(types.ORDER_CREATED, merchant_id=merchant, order_id="ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
                                 version=1),
              events.refund_event(types.REFUND_CREATED, merchant_id=merchant),
              events.order_event(types.ORDER_NOTE_ADDED, merchant_id=merchant, order_id="ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
                                 version=2),
              events.order_event(merchant_id=merchant), events.refund_event(types.REFUND_FAILED, merchant_id=merchant)]
    for event in routed:
        await _route(flint, event)
    # when the app reads its feed two at a time
    seen, cursor = await _read_all(plugin)
    # then it gets them all, in routing order, as they were sent
    assert [e["id"] for e in seen] == [e.id for e in routed]
    assert seen == [orjson.loads(e.to_bytes()) for e in routed]
    # and from where it stopped, later events and only those
    later = events.order_event(merchant_id=merchant)
    await _route(flint, later)
    more, _ = await _read_all(plugin, after=cursor)
    assert [e["id"] for e in more] == [later.id]


async def test_an_empty_feed_has_no_cursor_and_a_caught_up_one_keeps_its_place(flint):
    plugin = await install_app(flint, ["orders:read"])
    empty = (await plugin.call("GET", "/v1/events")).json()
    assert (empty["data"], empty["has_more"], empty["next_cursor"]) == ([], False, None)
    await _route(flint, events.order_event(merchant_id=plugin.merchant["id"]))
    first = (await plugin.call("GET", "/v1/events")).json()
    caught_up = (await plugin.call("GET", "/v1/events", params={"after": first["next_cursor"]})).json()
    assert caught_up["data"] == [] and caught_up["next_cursor"] == first["next_cursor"]


async def test_another_installs_feed_and_cursors_are_not_the_apps(flint):
    # given two merchants with the same app, each with an event
    mine = await install_app(flint, ["orders:read"])
    theirs = await install_app(flint, ["orders:read"], app=mine.app)
    await _route(flint, events.order_event(merchant_id=mine.merchant["id"]))
    await _route(flint, events.order_event(merchant_id=theirs.merchant["id"]))
    # then each install reads its own merchant's event only
    for plugin in (mine, theirs):
        seen, _ = await _read_all(plugin)
        assert [e["merchant_id"] for e in seen] == [plugin.merchant["id"]]
    # and a cursor handed to one is refused to the other
    cursor = (await mine.call("GET", "/v1/events")).json()["next_cursor"]
    refused = await theirs.call("GET", "/v1/events", params={"after": cursor})
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_cursor")


async def test_a_merchant_token_has_no_feed(flint):
    plugin = await install_app(flint, ["orders:read"])
    token = await flint.merchant_token(plugin.merchant)
    response = await flint.http.get("/v1/events", headers=flint.bearer(token))
    assert (response.status_code, response.json()["code"]) == (403, "wrong_token_kind")


async def test_events_older_than_30_days_are_purged(flint):
    plugin = await install_app(flint, ["orders:read"])
    now = datetime.now(UTC)
    old, recent = (events.order_event(merchant_id=plugin.merchant["id"]) for _ in range(2))
    await _route(flint, old, now=now - timedelta(days=31))
    await _route(flint, recent, now=now - timedelta(days=29))
    await flint.context.keep_house_once()
    seen, _ = await _read_all(plugin)
    assert [e["id"] for e in seen] == [recent.id]
