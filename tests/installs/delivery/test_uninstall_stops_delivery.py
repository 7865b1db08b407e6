"""An uninstall stops everything at once: when the call answers, nothing more of that merchant
reaches the app's topic, its event feed or its webhooks, and (it was the app's last install)
the broker refuses the app's open consumer. Another app of the same merchant goes on, which
shows the events after the uninstall were routed, only not to the uninstalled app. (The
window itself is measured by bench/uninstall_window.py.)"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import TopicAuthorizationFailedError

from flint_contracts.topics import ORDERS_EVENTS, app_topic
from tests.deploy.conftest import plugin_bootstrap  # noqa: F401 - shared fixture
from tests.deploy.plugin_clients import plugin_consumer, read_values
from tests.installs.delivery import events
from tests.installs.delivery.apps import InstalledApp, install_app
from tests.installs.delivery.service import delivering_installs, delivering_settings, publish
from tests.installs.delivery.test_broker_refusal import _credential_of_app
from tests.installs.support import Flint, TopicWatcher
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(server_url, database_url, kafka_bootstrap, plugin_bootstrap) -> AsyncIterator[Flint]:  # noqa: F811
    settings = delivering_settings(server_url, database_url, kafka_bootstrap, plugin_bootstrap)
    async with delivering_installs(settings) as flint:
        yield flint


async def _feed_ids(plugin: InstalledApp) -> list[str]:
    return [row["event_id"] for row in await plugin.flint.pool.fetch(
        "SELECT event_id FROM app_events WHERE install_id = $1 ORDER BY position", plugin.install_id)]


async def _routed(plugin: InstalledApp, event_id: str) -> bool:
    return event_id in await _feed_ids(plugin)


async def test_after_an_uninstall_nothing_more_reaches_the_app_and_the_broker_refuses_it(
        service, receiver, kafka_bootstrap):
    # given an app installed by one merchant only, reading its topic, with an endpoint on a
    # receiver that is down (so deliveries wait), and another app of the same merchant
    receiver.down = True
    leaving = await install_app(service, ["orders:read"])
    staying = await install_app(service, ["orders:read"], merchant=leaving.merchant)
    for plugin in (leaving, staying):
        await eventually(lambda p=plugin: _feed_ids(p), timeout=20, message="install.created routed")
    hooks = {p.install_id: await p.create_endpoint(receiver.url(f"/flaky?{p.install_id}")) for p in (leaving, staying)}
    credential = await _credential_of_app(service, leaving.app)
    consumer = plugin_consumer(credential, credential.topic, group=f"{credential.group_prefix}.reader")
    await consumer.start()
    try:
        before = events.order_event(merchant_id=leaving.merchant["id"])
        await publish(kafka_bootstrap, ORDERS_EVENTS, before)
        assert before.id in [json.loads(v)["id"] for v in await read_values(consumer, 2)]
        async with TopicWatcher(kafka_bootstrap, app_topic(leaving.app_id)) as topic:
            feed = await _feed_ids(leaving)
            # when the merchant uninstalls it
            token = await service.merchant_token(leaving.merchant)
            started = time.monotonic()
            answer = await service.http.post(f"/v1/installs/{leaving.install_id}/uninstall",
                                             headers=service.bearer(token))
            answered = time.monotonic()
            assert answer.status_code == 200, answer.text
            # then the broker refuses its open consumer's next fetch (a fetch already waiting at
            # the broker may still bring the app its own install.uninstalled, and nothing else)
            late: list[bytes] = []
            with pytest.raises(TopicAuthorizationFailedError):
                for _ in range(3):
                    late += await read_values(consumer, 1, timeout_ms=5000)
            refused = time.monotonic()
            assert [json.loads(v)["type"] for v in late] in ([], ["install.uninstalled"])
            print(f"\nuninstall window: the call answered in {(answered - started) * 1000:.0f} ms; the app's open "
                  f"consumer was refused {(refused - started) * 1000:.0f} ms after the call began")
            # and what happens after the uninstall reaches the other app, and not this one: the
            # app's topic and feed get nothing more but the news of the uninstall
            receiver.down = False
            after = events.order_event(merchant_id=leaving.merchant["id"])
            await publish(kafka_bootstrap, ORDERS_EVENTS, after)
            await eventually(lambda: _routed(staying, after.id), timeout=20, message="the other app to get it")
            [news] = await topic.wait_for(lambda e: e.type == "install.uninstalled")
            assert [(e.type, e.subject) for e in topic.events] == [("install.uninstalled", leaving.install_id)]
        assert await _feed_ids(leaving) == [*feed, news.id]
    finally:
        await consumer.stop()
    # and its endpoint gets nothing more, not even what was waiting, while the other's gets everything
    staying_hook = f"/flaky?{staying.install_id}"
    await eventually(lambda: {json.loads(r.body)["id"] for r in receiver.accepted if r.path == staying_hook}
                     >= {before.id, after.id}, timeout=20, message="the other app's webhooks")
    assert [r for r in receiver.accepted if r.path == f"/flaky?{leaving.install_id}"] == []
    pending = await service.pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 "
                                          "AND status = 'pending'", hooks[leaving.install_id]["id"])
    assert pending == 1  # kept, never sent
