"""`flint events tail` and `flint listen --forward-to`: the app's own topic, read with the app's
SCRAM credential on the broker's plugin listener (made here with KafkaAccess, as installing
the app will), filled with the real events of an order `flint trigger` paid."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from flint_chassis.topics import ensure_topics
from flint_contracts.webhooks import verify
from flint_sdk import read_event
from tests.cli.browser import Lines
from tests.cli.receiver import Receiver
from tests.cli.runner import Flint, assert_one_line_error
from tests.sdk.app_topic import OrderEventCopier

pytestmark = pytest.mark.integration


@pytest.fixture
async def app_topic(flint: Flint, kafka_credential, kafka_bootstrap):
    """The profile's app with its Kafka credential (password kept in the profile) and its
    topic holding the events of one order paid through `flint trigger`."""
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    assert flint("apps", "create", "Balance Chaser", "--scope", "orders:read").exit_code == 0
    credential = await kafka_credential(flint.profile()["app"]["id"])
    await ensure_topics(kafka_bootstrap, [credential.topic], partitions=3)
    assert flint("profile", "set", "kafka-password", credential.password).exit_code == 0
    async with OrderEventCopier(kafka_bootstrap) as copier:
        paid = await asyncio.to_thread(flint, "trigger", "order-paid", "--json")
        assert paid.exit_code == 0, paid.stderr
        order_id = paid.json()["order"]["id"]
        copied = await copier.copy([order_id], 2, credential.topic)
    return credential, order_id, [json.loads(record.value) for record in copied]


async def test_tail_prints_the_apps_events_then_goes_on_where_it_stopped(flint, app_topic):
    credential, order_id, events = app_topic
    tailed = await asyncio.to_thread(flint, "events", "tail", "--count", "2", "--json")
    assert tailed.exit_code == 0, tailed.stderr
    shown = [json.loads(line) for line in tailed.stdout.splitlines()]
    assert [(e["type"], e["subject"], e["id"]) for e in shown] == [
        ("order.created", order_id, events[0]["id"]), ("order.paid", order_id, events[1]["id"])]
    assert f"Reading {credential.topic} as group {credential.username}.cli-tail" in tailed.stderr
    # a new group reads from the oldest event; the same group goes on after the last one shown
    first = await asyncio.to_thread(flint, "events", "tail", "--count", "1", "--group", "other")
    assert first.exit_code == 0 and "order.created" in first.stdout and events[0]["id"] in first.stdout
    then = await asyncio.to_thread(flint, "events", "tail", "--count", "1", "--group", "other", "--json")
    assert [json.loads(line)["id"] for line in then.stdout.splitlines()] == [events[1]["id"]]


async def test_tail_by_type(flint, app_topic):
    _, order_id, events = app_topic
    tailed = await asyncio.to_thread(flint, "events", "tail", "--type", "order.paid", "--count", "1", "--json")
    assert [json.loads(line)["id"] for line in tailed.stdout.splitlines()] == [events[1]["id"]]


async def test_listen_forwards_signed_events(flint, app_topic):
    _, order_id, events = app_topic
    secret = flint("listen", "--print-secret").stdout.strip()
    assert secret.startswith("whsec_") and flint("listen", "--print-secret").stdout.strip() == secret
    with Receiver() as receiver:
        listened = await asyncio.to_thread(flint, "listen", "--forward-to", receiver.url, "--count", "2")
    assert listened.exit_code == 0, listened.stderr
    assert f"Webhook signing secret: {secret}" in listened.stderr
    assert [d.headers["Flint-Event-Id"] for d in receiver.deliveries] == [events[0]["id"], events[1]["id"]]
    for delivery, sent in zip(receiver.deliveries, events, strict=True):
        verify(delivery.body, delivery.headers["Flint-Signature"], secret)  # raises when it does not verify
        event = read_event(delivery.body)
        assert (event.id, event.type, event.subject) == (sent["id"], sent["type"], order_id)
        assert delivery.headers["Flint-Event-Type"] == sent["type"]
        assert delivery.headers["Flint-Delivery-Id"].startswith("dlv_")
        assert f"{sent['type']:<26} {sent['id']}  → POST {receiver.url} [200]" in listened.stdout


async def test_listen_shows_a_receiver_that_fails(flint, app_topic):
    with Receiver(status=500) as receiver:
        listened = await asyncio.to_thread(flint, "listen", "--forward-to", receiver.url, "--count", "2")
    assert listened.exit_code == 0, listened.stderr
    assert listened.stdout.count("[500]") == 2 and len(receiver.deliveries) == 2
    nobody = await asyncio.to_thread(flint, "listen", "--forward-to", "http://127.0.0.1:19398/x", "--count", "2",
                                     "--group", "nobody-home", "--json")
    assert nobody.exit_code == 0, nobody.stderr
    assert [(line["type"], line["status"], line["outcome"]) for line in map(json.loads, nobody.stdout.splitlines())] == [
        ("order.created", None, "failed: ConnectError"), ("order.paid", None, "failed: ConnectError")]


async def test_ctrl_c_stops_tail_without_a_traceback(flint, app_topic):
    _, _, events = app_topic
    process = flint.start("events", "tail", "--json")
    try:
        first = await asyncio.to_thread(Lines(process).until, "{")
        assert json.loads(first)["id"] == events[0]["id"]
        process.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 130
    assert "Traceback" not in process.stderr.read()


async def test_a_wrong_kafka_password_is_one_line(flint, app_topic):
    result = await asyncio.to_thread(flint, "events", "tail", "--count", "1", "--kafka-password", "wrong")
    assert_one_line_error(result, "cannot read", "the broker refused the login")
    result = await asyncio.to_thread(flint, "listen", "--forward-to", "http://127.0.0.1:19398/x", "--count", "1",
                                     "--kafka-password", "wrong")
    assert_one_line_error(result, "cannot read", "the broker refused the login")


async def test_an_unreachable_broker_is_one_line(flint, app_topic):
    result = await asyncio.to_thread(flint, "events", "tail", "--count", "1", "--bootstrap", "127.0.0.1:19397")
    assert_one_line_error(result, "cannot read", "127.0.0.1:19397")


def test_stream_errors_are_one_line(flint, bare_flint):
    assert_one_line_error(bare_flint("events", "tail"), "has no app")
    assert_one_line_error(bare_flint("listen", "--forward-to", "http://127.0.0.1:1/x"), "has no app")
    assert flint("apps", "create", "Balance Chaser").exit_code == 0
    # (with no Kafka password known, `events tail` asks Flint for the app's credential:
    # tests/e2e/test_cli_on_the_stack.py, where the installs service delivers events)
    assert_one_line_error(flint("events", "tail", "--type", "order.payed"), "unknown event type", exit_code=2)
    assert_one_line_error(flint("events", "tail", "--count", "0"), "--count", exit_code=2)
    assert_one_line_error(flint("listen"), "missing --forward-to", exit_code=2)
    assert_one_line_error(flint("listen", "--forward-to", "localhost:3000"), "not an http(s) URL", exit_code=2)
