"""Every service's /metrics, scraped as Prometheus would after a small load on a launched
stack: requests by route template, the outbox back to empty, consumers counting a poison
message as one dead letter, pools, lag and what runs."""

from __future__ import annotations

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from flint_contracts.topics import ORDERS_COMMANDS, ORDERS_EVENTS
from tests.ops.scrape import Scrape, scrape
from tests.orders.service import order_body
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


async def test_orders_metrics_after_creates_reads_and_a_poison_message(launched, merchant, kafka_bootstrap):
    orders = launched.url("orders")
    commands = f"{launched.group_prefix}orders.commands"
    before = await scrape(orders)
    # given five orders created and read over HTTP
    async with httpx.AsyncClient(base_url=orders, headers=merchant.auth, timeout=10) as http:
        created = [(await http.post("/v1/orders", json=order_body())).json()["id"] for _ in range(5)]
        for order_id in created:
            assert (await http.get(f"/v1/orders/{order_id}")).status_code == 200
        assert (await http.get("/v1/orders/ord_00000000000000000000000000")).status_code == 404
    # and a message no consumer can read on the commands topic
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(ORDERS_COMMANDS, b"\x00 not an event", key=b"ops-poison")
    finally:
        await producer.stop()

    # then the outbox empties, and the poison message is one dead letter, counted
    async def settled() -> Scrape | None:
        now = await scrape(orders)
        dead = now.value("flint_consumer_dead_letters_total", consumer=commands, code="malformed")
        if now.value("flint_outbox_backlog") == 0 and dead == 1:
            return now
        return None

    after = await eventually(settled, timeout=30, interval=0.3, message="an empty outbox and one dead letter")
    assert after.value("flint_outbox_oldest_unpublished_age_seconds") == 0
    assert after.value("flint_consumer_messages_total", consumer=commands, outcome="dead_lettered") == 1

    def grew(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    # requests by method, route template (never the path) and status, with their latency
    assert grew("flint_http_requests_total", method="POST", route="/v1/orders", status="201") == 5
    assert grew("flint_http_requests_total", method="GET", route="/v1/orders/{order_id}", status="200") == 5
    assert grew("flint_http_requests_total", method="GET", route="/v1/orders/{order_id}", status="404") == 1
    assert not any("ord_" in s.labels.get("route", "") for s in after.samples)
    assert grew("flint_http_request_duration_seconds_count", method="POST", route="/v1/orders") == 5
    assert after.value("flint_http_request_duration_seconds_sum", method="POST", route="/v1/orders") > 0
    # the relay published the five events and the dead letter
    assert grew("flint_outbox_published_total", topic="flint.orders.events.v1") == 5
    assert grew("flint_outbox_published_total", topic=f"{ORDERS_COMMANDS}.dlq.orders") == 1
    # each consumer's partitions have a lag (nothing waits once it is handled), and pools are watched
    assert after.has("flint_consumer_lag", consumer=commands)
    assert all(value >= 0 for value in after.values("flint_consumer_lag"))
    assert after.value("flint_consumer_parked_messages", consumer=commands) == 0
    for pool in ("main", "read"):
        most = after.value("flint_db_pool_max_connections", pool=pool)
        in_use = after.value("flint_db_pool_connections", pool=pool, state="in_use")
        assert most > 0 and 0 <= in_use <= most
    assert after.value("flint_consumer_handle_duration_seconds_count", consumer=commands) >= 1
    assert after.has("flint_build_info", service="orders")
    assert after.value("process_resident_memory_bytes") > 0


async def test_installs_metrics_count_its_requests_and_its_empty_outbox(launched, merchant):
    installs = await scrape(launched.url("installs"))
    assert installs.value("flint_http_requests_total", method="POST", route="/v1/merchants", status="201") >= 1
    assert installs.value("flint_http_requests_total", method="POST", route="/oauth/token", status="200") >= 1

    async def published() -> bool:
        return (await scrape(launched.url("installs"))).value("flint_outbox_backlog") == 0

    await eventually(published, timeout=20, interval=0.3, message="installs' outbox to empty")
    assert installs.has("flint_db_pool_connections", pool="main", state="in_use")
    assert installs.has("flint_build_info", service="installs")


async def test_every_service_reports_its_consumers_outbox_pool_and_build(launched, merchant):
    # given an order created over HTTP, whose order.created installs' router, refunds and invoicing consume
    async with httpx.AsyncClient(base_url=launched.url("orders"), headers=merchant.auth, timeout=10) as http:
        assert (await http.post("/v1/orders", json=order_body())).status_code == 201
    for service in launched.names:  # every service `make up` starts
        # then each one's outbox empties and its consumers of the orders events catch up
        async def settled(service: str = service) -> Scrape | None:
            found = await scrape(launched.url(service))
            caught_up = service == "orders" or (
                found.has("flint_consumer_lag", topic=ORDERS_EVENTS) and found.value("flint_consumer_lag", topic=ORDERS_EVENTS) == 0
                and found.value("flint_consumer_messages_total", topic=ORDERS_EVENTS) >= 1)
            return found if caught_up and found.value("flint_outbox_backlog") == 0 else None

        await eventually(settled, timeout=30, interval=0.3, message=f"{service}'s consumers and outbox")
        found = await scrape(launched.url(service))  # counts the scrapes before it
        # and it names what runs, its pool and its scrapes
        assert found.has("flint_build_info", service=service)
        assert found.has("flint_db_pool_connections", pool="main", state="in_use")
        assert found.has("flint_outbox_oldest_unpublished_age_seconds")
        assert found.value("flint_http_requests_total", route="/metrics", status="200") >= 1


async def test_a_worker_serves_its_metrics_and_probes_but_no_api(launched):
    # the launched services run as `all`; a worker's app is what serve.served_app keeps
    from flint_chassis.serve import served_app
    from flint_orders.app import create_app
    from flint_orders.config import OrdersSettings

    app = served_app(create_app(OrdersSettings(secret="s" * 40)), "worker")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://worker") as http:
        assert (await http.get("/healthz")).json()["service"] == "orders"
        assert (await http.get("/metrics")).status_code == 200
        assert (await http.get("/v1/orders")).status_code == 404
