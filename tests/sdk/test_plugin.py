"""A plugin consuming its own topic with its own SCRAM credential and ACLs on the broker's
plugin listener: handlers by type with typed data, per-order order across many orders and
partitions, a re-sent event handled once, and what happens when a handler keeps failing.

Order events come from the real orders service (copied to the app's topic by a stand-in for
the router, which is not built yet); refund events are built from the contract models.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import DATA_MODELS, RefundData, build_envelope
from flint_contracts.ids import new_id
from flint_sdk import AsyncFlintClient, Event, HandlerFailed, MemoryDedupStore, Plugin
from tests.contracts import contract_samples as make
from tests.sdk.app_topic import OrderEventCopier, committed, partition_and_offset, partitions_used, publish
from tests.sdk.platform import order_body
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

MERCHANT = new_id("mer")


def refund_created(order_id: str | None = None) -> EventEnvelope:
    data = make.refund(order_id=order_id or new_id("ord"))
    return build_envelope("refund.created", data, source="flint.refunds", merchant_id=MERCHANT)


def plugin_for(credential: Any, name: str = "test", **options: Any) -> Plugin:
    options.setdefault("retry_backoff", 0.01)
    return Plugin(credential.username, credential.password, credential.bootstrap_servers, name=name, **options)


async def test_handlers_get_their_types_typed_and_each_orders_events_in_sequence(flint, merchant, new_app,
                                                                                 kafka_bootstrap):
    # given 12 orders, each created, noted, tagged and noted again, and their events on the app's topic
    app = await new_app()
    async with OrderEventCopier(kafka_bootstrap) as copier, AsyncFlintClient.for_merchant(
            flint.installs_url, merchant["id"], merchant["secret_key"]) as backend:
        order_ids = []
        for _ in range(12):
            order = await backend.orders.create(order_body())
            await backend.orders.add_note(order.id, "packed")
            await backend.orders.add_tag(order.id, "gift")
            await backend.orders.add_note(order.id, "shipped")
            order_ids.append(order.id)
        await copier.copy(order_ids, 48, app.topic)
    refund = refund_created(order_ids[0])
    await publish(kafka_bootstrap, app.topic, refund)
    # when a plugin handles order.created and order.note_added, and refund.created apart
    plugin = plugin_for(app)
    seen: dict[str, list[Event]] = defaultdict(list)
    refunds: list[Event] = []

    @plugin.on("order.created", "order.note_added")
    async def order_changed(event: Event) -> None:
        if event.type == "order.created":
            await asyncio.sleep(0.005)  # a handler that takes a moment must not let later events overtake
        seen[event.subject].append(event)

    @plugin.on("refund.created")
    async def refund_asked(event: Event) -> None:
        refunds.append(event)

    async with plugin:
        await eventually(lambda: sum(map(len, seen.values())) == 36 and refunds, message="36 order events, 1 refund")
    # then each order's events came in sequence, order.updated (the tag) was left out
    assert len(await partitions_used(kafka_bootstrap, app.topic)) > 1
    for order_id in order_ids:
        assert [(e.sequence, e.type) for e in seen[order_id]] == [
            (1, "order.created"), (2, "order.note_added"), (4, "order.note_added")]
    # and each event's data is its type's contract model where the contracts have one
    for event in (e for events in seen.values() for e in events):
        model = DATA_MODELS.get(event.type)
        assert isinstance(event.data, model) if model else event.data["order"]["id"] == event.subject
    [refund_event] = refunds
    assert isinstance(refund_event.data, RefundData) and refund_event.data.refund_id == refund.data["refund_id"]


async def test_a_resent_event_is_handled_once(new_app, kafka_bootstrap):
    # given an event sent twice (same id, as after a producer retry), then another
    app = await new_app()
    order_id = new_id("ord")
    first, second = refund_created(order_id), refund_created(order_id)
    await publish(kafka_bootstrap, app.topic, first, first, second)
    # when the plugin consumes
    plugin = plugin_for(app)
    handled: list[str] = []

    @plugin.on("refund.created")
    async def refund_asked(event: Event) -> None:
        handled.append(event.id)

    async with plugin:
        await eventually(lambda: second.id in handled, message="the second event")
    # then the first was handled once
    assert handled == [first.id, second.id]


async def test_a_dedup_store_remembers_handled_events_across_consumers(new_app, kafka_bootstrap):
    # given one plugin handled an event, remembering it in a store that outlives it
    app = await new_app()
    store = MemoryDedupStore()
    handled: dict[str, list[str]] = defaultdict(list)
    first, second = refund_created(), refund_created()
    await publish(kafka_bootstrap, app.topic, first)
    for name, wanted in (("a", first), ("b", second)):
        plugin = plugin_for(app, name=name, dedup_store=store)

        @plugin.on("refund.created")
        async def refund_asked(event: Event, name: str = name) -> None:
            handled[name].append(event.id)

        # when a second consumer (whose group starts from the beginning) reads the topic again
        async with plugin:
            if name == "b":
                await publish(kafka_bootstrap, app.topic, second)
            await eventually(lambda wanted=wanted, name=name: wanted.id in handled[name], message=wanted.id)
    # then it skipped what the store holds
    assert handled == {"a": [first.id], "b": [second.id]}


async def test_a_handler_that_keeps_failing_is_retried_then_skipped_and_recorded(new_app, kafka_bootstrap):
    # given a message that is no event, an event whose handler keeps failing, and a good one after them
    app = await new_app()
    order_id = new_id("ord")
    bad, good = refund_created(order_id), refund_created(order_id)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(app.topic, b"not an event", key=order_id.encode())
    finally:
        await producer.stop()
    await publish(kafka_bootstrap, app.topic, bad, good)
    # when the plugin skips what fails, recording it
    skipped = []
    plugin = plugin_for(app, attempts=3, on_failure="skip", on_skip=skipped.append)
    attempts: Counter[str] = Counter()

    @plugin.on("refund.created")
    async def refund_asked(event: Event) -> None:
        attempts[event.id] += 1
        if event.id == bad.id:
            raise RuntimeError("the refund desk is down")

    async with plugin:
        await eventually(lambda: attempts[good.id] == 1, message="the good event")
    # then the bad event was tried 3 times, both failures were recorded, and the offsets moved on
    assert attempts == {bad.id: 3, good.id: 1}
    unreadable, failed = skipped
    assert (unreadable.event, unreadable.value, unreadable.attempts) == (None, b"not an event", 0)
    assert (failed.event.id, failed.attempts, str(failed.error)) == (bad.id, 3, "the refund desk is down")
    partition, offset = await partition_and_offset(kafka_bootstrap, app.topic, good.id)
    assert (await committed(kafka_bootstrap, plugin.group_id, app.topic))[partition] == offset + 1


async def test_a_handler_that_keeps_failing_stops_the_plugin_at_that_message(new_app, kafka_bootstrap):
    # given a handled event, an event whose handler keeps failing, and one after it, all of one order
    app = await new_app()
    order_id = new_id("ord")
    ok, bad, after = refund_created(order_id), refund_created(order_id), refund_created(order_id)
    await publish(kafka_bootstrap, app.topic, ok, bad, after)
    plugin = plugin_for(app, attempts=2)
    handled: list[str] = []

    @plugin.on("refund.created")
    async def refund_asked(event: Event) -> None:
        if event.id == bad.id:
            raise RuntimeError("a bug")
        handled.append(event.id)

    # when the plugin runs (on_failure="stop", the default)
    with pytest.raises(HandlerFailed) as raised:
        await asyncio.wait_for(plugin.run(), 60)
    # then it stopped at the bad event, with its offset uncommitted
    assert raised.value.failure.event.id == bad.id and raised.value.failure.attempts == 2
    assert handled == [ok.id]
    partition, offset = await partition_and_offset(kafka_bootstrap, app.topic, bad.id)
    assert (await committed(kafka_bootstrap, plugin.group_id, app.topic))[partition] == offset
    # and once fixed, the plugin resumes at the bad event
    fixed = plugin_for(app)
    resumed: list[str] = []

    @fixed.on("refund.created")
    async def refund_asked_fixed(event: Event) -> None:
        resumed.append(event.id)

    async with fixed:
        await eventually(lambda: after.id in resumed, message="the event after the bad one")
    assert resumed == [bad.id, after.id]


async def test_a_handler_that_fails_then_succeeds_is_handled_once(new_app, kafka_bootstrap):
    app = await new_app()
    event = refund_created()
    await publish(kafka_bootstrap, app.topic, event)
    plugin = plugin_for(app, attempts=3)
    calls: list[str] = []

    @plugin.on("refund.created")
    async def refund_asked(received: Event) -> None:
        calls.append(received.id)
        if len(calls) < 3:
            raise ConnectionError("flaky")

    async with plugin:
        await eventually(lambda: len(calls) == 3, message="the third attempt")
    assert calls == [event.id] * 3 and plugin.failure is None


def test_a_misspelt_event_type_is_refused_when_registering():
    plugin = Plugin(new_id("app"), "password", "127.0.0.1:1")
    with pytest.raises(KeyError, match="order.payed"):
        plugin.on("order.payed")


def test_the_group_is_named_after_the_app():
    app_id = new_id("app")
    assert Plugin(app_id, "password", "127.0.0.1:1", name="invoicer").group_id == f"{app_id}.invoicer"
    with pytest.raises(ValueError):
        Plugin("ANONYMOUS", "password", "127.0.0.1:1")


async def test_stopping_lets_the_handler_in_hand_finish_and_commit(new_app, kafka_bootstrap):
    # given a plugin in the middle of handling an event
    app = await new_app()
    event = refund_created()
    await publish(kafka_bootstrap, app.topic, event)
    plugin = plugin_for(app)
    entered, release, finished = asyncio.Event(), asyncio.Event(), []

    @plugin.on("refund.created")
    async def refund_asked(received: Event) -> None:
        entered.set()
        await release.wait()
        finished.append(received.id)

    await plugin.start()
    await asyncio.wait_for(entered.wait(), 30)
    # when it is stopped, and the handler finishes meanwhile
    stopping = asyncio.create_task(plugin.stop())
    await asyncio.sleep(0.1)  # stop() is under way while the handler still runs
    release.set()
    await asyncio.wait_for(stopping, 30)
    # then the handler completed and its offset was committed before the consumer left
    assert finished == [event.id]
    partition, offset = await partition_and_offset(kafka_bootstrap, app.topic, event.id)
    assert (await committed(kafka_bootstrap, plugin.group_id, app.topic))[partition] == offset + 1
