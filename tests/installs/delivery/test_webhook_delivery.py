"""Webhooks from the running installs service (router, sender worker, real Kafka and
PostgreSQL) to a real local receiver: a receiver that answers 500, times out or closes the
connection; one that is down for a while and comes back; an endpoint disabled after failing
for the whole period (and the event that says so); the delivery log and a retry by hand; and
an uninstall that stops delivery."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_EVENTS, app_topic
from flint_sdk import verify
from tests.deploy.conftest import plugin_bootstrap  # noqa: F401 - shared fixture
from tests.installs.delivery import events
from tests.installs.delivery.apps import InstalledApp, install_app
from tests.installs.delivery.receiver import Receiver
from tests.installs.delivery.service import delivering_installs, delivering_settings, fast_webhooks, publish
from tests.installs.support import Flint, TopicWatcher
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
async def service(server_url, database_url, kafka_bootstrap, plugin_bootstrap,  # noqa: F811
                  webhook_settings) -> AsyncIterator[Flint]:
    settings = delivering_settings(server_url, database_url, kafka_bootstrap, plugin_bootstrap,
                                   webhooks=fast_webhooks(**webhook_settings))
    async with delivering_installs(settings) as flint:
        yield flint


async def _plugin_with_endpoint(service: Flint, receiver: Receiver, path: str) -> tuple[InstalledApp, dict]:
    """An installed app with an endpoint made once its ``install.created`` was routed (so the
    endpoint gets only the events the test publishes)."""
    plugin = await install_app(service, ["orders:read"])
    await eventually(lambda: _feed_types(plugin), timeout=20, message="install.created to be routed")
    return plugin, await plugin.create_endpoint(receiver.url(path))


async def _feed_types(plugin: InstalledApp) -> list[str]:
    feed = (await plugin.call("GET", "/v1/events", params={"limit": 100})).json()["data"]
    return [e["type"] for e in feed]


async def _order_events(merchant_id: str, orders: int, per_order: int) -> list[EventEnvelope]:
    """Events of several orders, interleaved: each order's versions 1, 2, 3 …"""
    order_ids = [new_id("ord") for _ in range(orders)]
    kinds = [types.ORDER_CREATED, types.ORDER_NOTE_ADDED, types.ORDER_UPDATED, types.ORDER_NOTE_ADDED]
    return [events.order_event(kinds[n % len(kinds)], merchant_id=merchant_id, order_id=order_id, version=n + 1)
            for n in range(per_order) for order_id in order_ids]


async def _log(plugin: InstalledApp, endpoint_id: str) -> list[dict]:
    response = await plugin.call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _failed_attempts(plugin: InstalledApp, endpoint_id: str, at_least: int) -> list[dict]:
    async def enough() -> list[dict] | None:
        log = await _log(plugin, endpoint_id)
        attempts = [a for d in log for a in d["attempts"]]
        return attempts if len(attempts) >= at_least else None

    return await eventually(enough, timeout=30, interval=0.1, message=f"{at_least} attempts in the delivery log")


@pytest.mark.parametrize(("path", "reason", "status", "snippet"), [
    ("/error", "http_status", 500, "database is down, try later"),
    ("/hang", "timeout", None, ""),
    ("/close", "connection_closed", None, ""),
])
async def test_a_failing_receiver_is_retried_with_the_same_ids_and_every_attempt_is_logged(
        service, receiver, kafka_bootstrap, path, reason, status, snippet):
    # given an app with an endpoint on a receiver that fails in one way
    plugin, endpoint = await _plugin_with_endpoint(service, receiver, path)
    event = events.order_event(merchant_id=plugin.merchant["id"])
    # when an order event of its merchant is published
    await publish(kafka_bootstrap, ORDERS_EVENTS, event)
    # then the delivery log shows each attempt failing that way, and the delivery stays pending
    attempts = await _failed_attempts(plugin, endpoint["id"], 2)
    assert [(a["outcome"], a["reason"], a["status_code"], a["response_snippet"]) for a in attempts[:2]] == [
        ("failed", reason, status, snippet)] * 2
    assert [a["number"] for a in attempts[:2]] == [1, 2]
    [delivery] = await _log(plugin, endpoint["id"])
    assert (delivery["event_id"], delivery["event_type"], delivery["subject"], delivery["status"]) == (
        event.id, "order.created", event.subject, "pending")
    if reason == "timeout":
        assert all(a["latency_ms"] >= 1400 for a in attempts[:2])
    # and every try carried the same event id and delivery id, signed with the endpoint's secret
    tries = [r for r in receiver.requests if r.path == path]
    assert len(tries) >= 2
    assert {r.headers["flint-event-id"] for r in tries} == {event.id}
    assert {r.headers["flint-delivery-id"] for r in tries} == {delivery["id"]}
    assert all(verify(r.body, r.headers["flint-signature"], endpoint["secret"]) for r in tries)
    assert all(r.body == event.to_bytes() for r in tries)


async def test_through_a_receiver_outage_everything_arrives_once_and_in_order_per_order(
        service, receiver, kafka_bootstrap):
    # given a receiver that is down, and events of three orders published interleaved
    receiver.down = True
    plugin, endpoint = await _plugin_with_endpoint(service, receiver, "/flaky")
    published = await _order_events(plugin.merchant["id"], orders=3, per_order=4)
    await publish(kafka_bootstrap, ORDERS_EVENTS, *published)
    # when the first event of every order has failed twice
    await _failed_attempts(plugin, endpoint["id"], 6)
    assert {json.loads(r.body)["sequence"] for r in receiver.requests} == {1}  # later events wait their turn
    # and the receiver comes back
    receiver.down = False
    await eventually(lambda: len(receiver.accepted) >= len(published), timeout=30,
                     message="every event to arrive")
    # then each event arrived once, each order's in sequence
    arrived = [json.loads(r.body) for r in receiver.accepted]
    assert sorted(e["id"] for e in arrived) == sorted(e.id for e in published)
    by_order = defaultdict(list)
    for event in arrived:
        by_order[event["subject"]].append(event["sequence"])
    assert all(sequences == [1, 2, 3, 4] for sequences in by_order.values()), by_order
    assert all(verify(r.body, r.headers["flint-signature"], endpoint["secret"]) for r in receiver.accepted)
    assert {d["status"] for d in await _log(plugin, endpoint["id"])} == {"delivered"}


@pytest.mark.parametrize("webhook_settings", [{"disable_after": 1.0}])
async def test_an_endpoint_failing_for_the_whole_period_is_disabled_and_the_app_is_told(
        service, receiver, kafka_bootstrap, webhook_settings):
    # given an endpoint on a receiver that is down, disabled after one second of failures
    receiver.down = True
    plugin, endpoint = await _plugin_with_endpoint(service, receiver, "/flaky")
    async with TopicWatcher(kafka_bootstrap, app_topic(plugin.app_id)) as topic:
        first = events.order_event(merchant_id=plugin.merchant["id"])
        await publish(kafka_bootstrap, ORDERS_EVENTS, first)
        # when it keeps failing for longer than that
        [disabled] = await topic.wait_for(lambda e: e.type == types.WEBHOOK_ENDPOINT_DISABLED, timeout=30)
    # then it is disabled, and webhook_endpoint.disabled reaches the app's topic and its event feed
    state = (await plugin.call("GET", f"/v1/webhook-endpoints/{endpoint['id']}")).json()
    assert state["status"] == "disabled" and state["disabled_reason"].startswith("every attempt failed since")
    assert (disabled.subject, disabled.merchant_id) == (plugin.install_id, plugin.merchant["id"])
    assert disabled.data["webhook_endpoint_id"] == endpoint["id"] and disabled.data["failed_attempts"] >= 2
    assert disabled.data["last_delivery_id"] == (await _log(plugin, endpoint["id"]))[0]["id"]
    feed = (await plugin.call("GET", "/v1/events", params={"limit": 100})).json()["data"]
    assert disabled.id in [e["id"] for e in feed]
    # when an event comes while it is disabled, then the receiver is back and the endpoint re-enabled
    second = events.order_event(merchant_id=plugin.merchant["id"])
    await publish(kafka_bootstrap, ORDERS_EVENTS, second)
    await eventually(lambda: _in_feed(plugin, second.id), timeout=20, message="the second event to be routed")
    receiver.down = False
    assert (await plugin.call("POST", f"/v1/webhook-endpoints/{endpoint['id']}/enable")).status_code == 200
    # then the delivery pending since before it was disabled goes out; the event of the
    # disabled period is in the feed (to catch up from), not queued for the endpoint
    await eventually(lambda: receiver.accepted, timeout=20, message="the pending delivery")
    assert [json.loads(r.body)["id"] for r in receiver.accepted] == [first.id]
    assert second.id not in [d["event_id"] for d in await _log(plugin, endpoint["id"])]


async def _in_feed(plugin: InstalledApp, event_id: str) -> bool:
    feed = (await plugin.call("GET", "/v1/events", params={"limit": 100})).json()["data"]
    return event_id in [e["id"] for e in feed]


@pytest.mark.parametrize("webhook_settings", [{"retry_window": 1.0}])
async def test_a_given_up_delivery_is_sent_again_by_hand(service, receiver, kafka_bootstrap, webhook_settings):
    # given a delivery given up after its one-second retry window, the receiver down
    receiver.down = True
    plugin, endpoint = await _plugin_with_endpoint(service, receiver, "/flaky")
    event = events.order_event(merchant_id=plugin.merchant["id"])
    await publish(kafka_bootstrap, ORDERS_EVENTS, event)

    async def given_up() -> dict | None:
        log = await _log(plugin, endpoint["id"])
        return log[0] if log and log[0]["status"] == "given_up" else None

    delivery = await eventually(given_up, timeout=30, message="the delivery to be given up")
    tries = len(delivery["attempts"])
    # when the receiver is back and the app retries it
    receiver.down = False
    retried = await plugin.call("POST", f"/v1/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    # then it is delivered, with one more attempt in the log
    await eventually(lambda: receiver.accepted, timeout=20, message="the retried delivery")
    after = await eventually(lambda: _delivered(plugin, endpoint["id"]), timeout=20, message="the log to say so")
    assert len(after["attempts"]) == tries + 1 and after["attempts"][-1]["status_code"] == 200
    assert receiver.accepted[0].headers["flint-delivery-id"] == delivery["id"]


async def _delivered(plugin: InstalledApp, endpoint_id: str) -> dict | None:
    log = await _log(plugin, endpoint_id)
    return log[0] if log and log[0]["status"] == "delivered" else None


async def test_a_delivery_of_a_disabled_endpoint_cannot_be_retried_and_another_installs_is_not_found(
        service, receiver, kafka_bootstrap):
    plugin, endpoint = await _plugin_with_endpoint(service, receiver, "/ok")
    await publish(kafka_bootstrap, ORDERS_EVENTS, events.order_event(merchant_id=plugin.merchant["id"]))
    delivery = await eventually(lambda: _delivered(plugin, endpoint["id"]), timeout=20, message="a delivery")
    stranger = await install_app(service, ["orders:read"])
    assert (await stranger.call("POST", f"/v1/deliveries/{delivery['id']}/retry")).status_code == 404
    async with service.pool.acquire() as conn:
        await conn.execute("UPDATE webhook_endpoints SET status = 'disabled' WHERE id = $1", endpoint["id"])
    refused = await plugin.call("POST", f"/v1/deliveries/{delivery['id']}/retry")
    assert (refused.status_code, refused.json()["code"]) == (409, "webhook_endpoint_disabled")
    assert (await _log(plugin, endpoint["id"]))[0]["status"] == "delivered"
