"""Issue 12, done when: on the real Kafka, two apps installed by two merchants with different
scopes each receive exactly their events, on their topic (read with their own SCRAM
credential through the SDK's consumer) and by webhook (a local receiver verifying every
signature with the SDK), in per-order sequence, through a receiver outage and a crash and
restart of the installs worker that routes and sends them.

The order events come from the real orders service; refund, invoice and payment events are
published as those services do, on their internal topics. What each app should get is
worked out from everything those topics carried, whatever produced it.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from flint_chassis.kafka_access import AppCredential
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import INSTALLS_EVENTS, INVOICES_EVENTS, ORDERS_EVENTS, PAYMENTS_EVENTS, REFUNDS_EVENTS
from flint_installs.delivery.router import ROUTED_TOPICS
from flint_sdk import EVENT_ID_HEADER, Event, Plugin
from tests.contracts import contract_samples as make
from tests.deploy.conftest import plugin_bootstrap  # noqa: F401 - shared fixture
from tests.deploy.plugin_clients import sasl_settings
from tests.installs.delivery import events
from tests.installs.delivery.apps import InstalledApp, install_app
from tests.installs.delivery.receiver import Receiver
from tests.installs.delivery.service import delivering_installs, delivering_settings, publish, start_router_at_end
from tests.installs.delivery.worker_process import WorkerProcess
from tests.installs.support import Flint
from tests.orders.service import OrdersService, Tap, order_body, running_orders_service
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

INTERNAL = [ORDERS_EVENTS, REFUNDS_EVENTS, INVOICES_EVENTS, INSTALLS_EVENTS, PAYMENTS_EVENTS]


@dataclass
class Subscriber:
    """One install as the test sees it: what it may read, and what reached it."""

    plugin: InstalledApp
    scopes: list[str]
    secret: str = ""
    path: str = ""
    hooks: dict[str, bytes] = field(default_factory=dict)  # event id -> body, first arrival

    @property
    def merchant_id(self) -> str:
        return self.plugin.merchant["id"]


@pytest.fixture
async def world(server_url, database_url, kafka_bootstrap, plugin_bootstrap, receiver, tmp_path  # noqa: F811
                ) -> AsyncIterator[dict[str, Any]]:
    settings = delivering_settings(server_url, database_url, kafka_bootstrap, plugin_bootstrap, role="api")
    tap = Tap(kafka_bootstrap, INTERNAL)
    await start_router_at_end(settings)
    await tap.start()
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        await worker.start()
        async with delivering_installs(settings, start_router=False) as installs, \
                running_orders_service(server_url, kafka_bootstrap) as orders:
            yield {"installs": installs, "orders": orders, "worker": worker, "tap": tap}
    finally:
        worker.stop()
        await tap.stop()


async def test_two_apps_of_two_merchants_get_exactly_their_events_on_their_topic_and_by_webhook(
        world, receiver, kafka_bootstrap):
    installs: Flint = world["installs"]
    orders: OrdersService = world["orders"]
    worker: WorkerProcess = world["worker"]
    # given app A (orders and refunds) installed by merchant M1, and app B installed by M1 with
    # orders:read only and by M2 with orders:read and invoices:read; M3 installs nothing
    m1, m2, m3 = [await installs.create_merchant(name) for name in ("M1", "M2", "M3")]
    app_a = await installs.register_app("A", scopes=["orders:read", "refunds:read"])
    app_b = await installs.register_app("B", scopes=["orders:read", "invoices:read"])
    a_m1 = Subscriber(await install_app(installs, [], merchant=m1, app=app_a), ["orders:read", "refunds:read"])
    b_m1 = Subscriber(await install_app(installs, [], merchant=m1, app=app_b, scope="orders:read"), ["orders:read"])
    b_m2 = Subscriber(await install_app(installs, [], merchant=m2, app=app_b), ["orders:read", "invoices:read"])
    subscribers = [a_m1, b_m1, b_m2]
    # and each install with a webhook endpoint on a receiver that verifies signatures
    for sub in subscribers:
        await eventually(lambda s=sub: _routed(s, types.INSTALL_CREATED), timeout=60,
                         message="install.created routed by the worker")
        sub.path = f"/verified/{sub.plugin.install_id}"
        endpoint = await sub.plugin.create_endpoint(receiver.url(sub.path))
        sub.secret = receiver.secrets.setdefault(sub.path, [endpoint["secret"]])[0]
    # and each app consuming its topic through the SDK with its own Kafka credential
    credentials = {app["id"]: await _kafka_credential(installs, app) for app in (app_a, app_b)}
    consumed: dict[str, list[Event]] = defaultdict(list)
    plugins = [_plugin(credentials[app["id"]], consumed[app["id"]]) for app in (app_a, app_b)]
    for plugin in plugins:
        await plugin.start()
    try:
        # when the merchants' orders change, refunds and invoices happen, and payments are captured
        order_ids = {m["id"]: [await _order(orders, m["id"]) for _ in range(3)] for m in (m1, m2, m3)}
        await _refunds_invoices_payments(kafka_bootstrap, order_ids)
        # and the receiver goes down while more happens, the worker crashes and comes back,
        # then the receiver comes back and more happens
        receiver.down = True
        await _notes(orders, order_ids, "packed")
        await eventually(lambda: _failed_attempts(installs, 3), timeout=60, message="failed attempts in the outage")
        worker.kill()
        await _notes(orders, order_ids, "shipped")
        await worker.start()
        receiver.down = False
        await _notes(orders, order_ids, "delivered")
        # then each app's topic, and each install's endpoint, get exactly what they may see
        tap: Tap = world["tap"]

        def differences() -> dict[str, tuple[set[str], set[str]]]:
            """What is missing and what should not be there, per app topic and per endpoint."""
            source = _source_events(tap)
            _collect_hooks(receiver, subscribers)
            found = {}
            for app in (app_a, app_b):
                expected = _expected_ids(source, [s for s in subscribers if s.plugin.app_id == app["id"]])
                found[f"topic of {app['name']}"] = (expected - _ids(consumed[app["id"]]),
                                                    _ids(consumed[app["id"]]) - expected)
            for sub in subscribers:
                expected = _expected_ids(source, [sub], webhooks=True)
                found[f"endpoint of {sub.plugin.install_id}"] = (expected - set(sub.hooks), set(sub.hooks) - expected)
            return {where: diff for where, diff in found.items() if diff != (set(), set())}

        try:
            await eventually(lambda: not differences(), timeout=120, interval=0.5,
                             message="every event on its topic and endpoint")
        except BaseException:
            print("missing and extra:", differences(), "\nsource:", {
                i: (e.type, e.merchant_id) for i, (e, _) in _source_events(tap).items()
                if e.merchant_id in (m1["id"], m2["id"], m3["id"])})
            raise
    finally:
        for plugin in plugins:
            await plugin.stop()
    source = _source_events(tap)
    # and nothing internal, nothing of M3, nothing outside a scope ever reached anyone
    for app in (app_a, app_b):
        got = consumed[app["id"]]
        assert not {e.type for e in got} & {types.PAYMENT_CAPTURED, types.PAYMENT_FAILED}
        assert m3["id"] not in {e.merchant_id for e in got}
    assert not {e.type for e in consumed[app_b["id"]]} & {"refund.created", "refund.succeeded"}
    assert not {e.type for e in consumed[app_a["id"]]} & {"invoice.created", "invoice.sent"}
    # and each order's events came in sequence, on the topic and by webhook, byte for byte
    for app in (app_a, app_b):
        _assert_in_sequence([e.envelope for e in consumed[app["id"]]])
        await _assert_same_bytes_on_topic(credentials[app["id"]], source)
    for sub in subscribers:
        _assert_in_sequence([EventEnvelope.from_bytes(body) for body in sub.hooks.values()])
        assert all(body == source[event_id][1] for event_id, body in sub.hooks.items())
    assert receiver.refused == []  # every delivery verified
    assert worker.starts == 2


# ---------------------------------------------------------------- what happens
async def _kafka_credential(installs: Flint, app: dict) -> AppCredential:
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await installs.http.post(f"/v1/apps/{app['id']}/kafka-credential",
                                        headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 201, response.text
    body = response.json()
    return AppCredential(username=body["username"], password=body["password"],
                         bootstrap_servers=body["bootstrap_servers"], topic=body["topic"],
                         group_prefix=body["group_prefix"])


def _plugin(credential: AppCredential, into: list[Event]) -> Plugin:
    plugin = Plugin(credential.username, credential.password, credential.bootstrap_servers, name="e2e",
                    retry_backoff=0.01)

    @plugin.on(*types.deliverable_to(types.SCOPES))
    async def handle(event: Event) -> None:
        into.append(event)

    return plugin


async def _order(orders: OrdersService, merchant_id: str) -> str:
    return (await orders.create_order(merchant_id, order_body()))["id"]


async def _notes(orders: OrdersService, order_ids: dict[str, list[str]], text: str) -> None:
    for merchant_id, ids in order_ids.items():
        for order_id in ids:
            response = await orders.call("POST", f"/v1/orders/{order_id}/notes", orders.merchant_token(merchant_id),
                                         json={"body": text})
            assert response.status_code == 201, response.text


async def _refunds_invoices_payments(kafka_bootstrap: str, order_ids: dict[str, list[str]]) -> None:
    for merchant_id, ids in order_ids.items():
        refund_id, invoice_id = events.new_id("rfd"), events.new_id("inv")
        await publish(kafka_bootstrap, REFUNDS_EVENTS, *(
            events.refund_event(kind, merchant_id=merchant_id, order_id=ids[0], refund_id=refund_id)
            for kind in (types.REFUND_CREATED, types.REFUND_SUCCEEDED)))
        await publish(kafka_bootstrap, INVOICES_EVENTS, *(
            events.invoice_event(kind, merchant_id=merchant_id, order_id=ids[1], invoice_id=invoice_id)
            for kind in (types.INVOICE_CREATED, types.INVOICE_SENT)))
        captured = make.payment_captured(order_id=ids[2], amount=make.eur(100), captured_at=events.now())
        await publish(kafka_bootstrap, PAYMENTS_EVENTS, events.build_envelope(
            types.PAYMENT_CAPTURED, captured, source="flint.checkout", merchant_id=merchant_id, time=events.now()))


async def _routed(sub: Subscriber, type_: str) -> bool:
    feed = (await sub.plugin.call("GET", "/v1/events", params={"limit": 100})).json()["data"]
    return type_ in [e["type"] for e in feed]


async def _failed_attempts(installs: Flint, at_least: int) -> bool:
    count = await installs.pool.fetchval("SELECT count(*) FROM webhook_delivery_attempts WHERE outcome = 'failed'")
    return count >= at_least


# ---------------------------------------------------------------- what should have arrived
def _source_events(tap: Tap) -> dict[str, tuple[EventEnvelope, bytes]]:
    """Every event the internal topics carried, by id, with its bytes."""
    found = {}
    for record in list(tap.records):
        if record.topic in ROUTED_TOPICS or record.topic == PAYMENTS_EVENTS:
            envelope = EventEnvelope.from_bytes(record.value)
            found.setdefault(envelope.id, (envelope, record.value))
    return found


def _expected_ids(source: dict[str, tuple[EventEnvelope, bytes]], subs: list[Subscriber], *,
                  webhooks: bool = False) -> set[str]:
    """The events ``subs`` (installs of one app) may see; by webhook, not their own install
    events (an endpoint exists only after its install was routed)."""
    expected = set()
    for event_id, (envelope, _) in source.items():
        for sub in subs:
            if envelope.type.startswith(("install.", "webhook_endpoint.")):
                mine = envelope.data.get("install_id") == sub.plugin.install_id
                if mine and not webhooks:
                    expected.add(event_id)
            elif envelope.merchant_id == sub.merchant_id and envelope.type in types.deliverable_to(sub.scopes):
                expected.add(event_id)
    return expected


def _ids(consumed: list[Event]) -> set[str]:
    return {e.id for e in consumed}


def _collect_hooks(receiver: Receiver, subscribers: list[Subscriber]) -> None:
    for request in list(receiver.accepted):
        for sub in subscribers:
            if request.path == sub.path:
                sub.hooks.setdefault(request.headers[EVENT_ID_HEADER.lower()], request.body)


def _assert_in_sequence(received: list[EventEnvelope]) -> None:
    """Per order, order.* events in the order of their sequence (first arrival of each)."""
    sequences: dict[str, list[int]] = defaultdict(list)
    seen = set()
    for envelope in received:
        if envelope.type.startswith("order.") and envelope.id not in seen:
            seen.add(envelope.id)
            sequences[envelope.subject].append(envelope.sequence)
    assert sequences and all(s == sorted(s) for s in sequences.values()), sequences


async def _assert_same_bytes_on_topic(credential: AppCredential, source: dict[str, tuple[EventEnvelope, bytes]]):
    """Read the app's whole topic with its credential: every value is the source's bytes."""
    consumer = AIOKafkaConsumer(credential.topic, group_id=f"{credential.group_prefix}.bytes",
                                auto_offset_reset="earliest", enable_auto_commit=False, **sasl_settings(credential))
    await consumer.start()
    try:
        values: list[bytes] = []
        while batch := await consumer.getmany(timeout_ms=2000):
            values += [r.value for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    assert values
    for value in values:
        event = json.loads(value)
        assert value == source[event["id"]][1], event["id"]
