"""One trace follows an order from the HTTP request that creates it, through its transaction
and the outbox relay's publish (the orders process, spans in its trace file), over Kafka, to
the consumer of another service that handles `order.created` (a service built on the chassis,
here in the test process, exporting to memory)."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import Field

from flint_chassis import tracing
from flint_chassis.config import ServiceSettings
from flint_chassis.consumer import Event, Subscription
from flint_chassis.logs import JsonFormatter
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.event_types import ORDER_CREATED
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_EVENTS
from tests.orders.service import order_body, start_groups_at_end
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


class ProbeSettings(ServiceSettings):
    """Another service: its own database, its own consumer group on the orders events."""

    service_name = "opsprobe"
    consumer_group_prefix: str = Field(default="")


class Probe:
    def __init__(self) -> None:
        self.handled: dict[str, str | None] = {}  # order id: the trace id the handler ran in
        self.subscription = Subscription("orders", ORDERS_EVENTS)

        @self.subscription.on(ORDER_CREATED)
        async def created(conn: asyncpg.Connection, event: Event) -> None:
            self.handled[event.subject] = tracing.current_trace_id()


@pytest_asyncio.fixture
async def probe(server_url: str, kafka_bootstrap: str) -> AsyncIterator[tuple[Probe, InMemorySpanExporter, io.StringIO]]:
    exporter, lines = InMemorySpanExporter(), io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter("opsprobe"))
    consumer_log = logging.getLogger("flint.consumer")
    consumer_log.addHandler(handler)
    level = consumer_log.level
    consumer_log.setLevel(logging.INFO)  # setLevel, not the attribute: it clears isEnabledFor's cache
    database = f"test_opsprobe_{secrets.token_hex(4)}"
    settings = ProbeSettings(database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
                             consumer_group_prefix=f"{database}.")
    probe = Probe()
    runtime = ServiceRuntime(settings, subscriptions=[probe.subscription])
    await start_groups_at_end(kafka_bootstrap, runtime.consumer_groups())
    tracing.configure_tracing("opsprobe", exporter=exporter)
    try:
        await runtime.start()
        yield probe, exporter, lines
    finally:
        await runtime.stop()
        tracing.shutdown_tracing()
        consumer_log.removeHandler(handler)
        consumer_log.setLevel(level)
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_one_trace_runs_from_the_http_request_to_another_services_consumer(launched, merchant, probe):
    consumer, exporter, lines = probe
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    # when an order is created over HTTP by a caller that is in a trace of its own
    async with httpx.AsyncClient(base_url=launched.url("orders"), headers=merchant.auth, timeout=10) as http:
        response = await http.post("/v1/orders", json=order_body(),
                                   headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]

    # then the other service handles order.created in that trace
    await eventually(lambda: order_id in consumer.handled, timeout=30, message="order.created at the probe")
    assert consumer.handled[order_id] == trace_id
    # its CONSUMER span continues the span of the relay's publish, in the orders process
    tracing_done = exporter.get_finished_spans  # the batch processor exports on shutdown or soon after
    [consumed] = await eventually(
        lambda: [s for s in tracing_done() if s.kind.name == "CONSUMER" and f"{s.context.trace_id:032x}" == trace_id],
        timeout=10, message="the probe's consumer span")
    orders_spans = await eventually(lambda: _trace(launched.spans("orders"), trace_id, {"SpanKind.PRODUCER"}),
                                    timeout=15, message="the relay's publish span in the orders trace file")
    by_id = {span["context"]["span_id"]: span for span in orders_spans}
    publish = by_id[f"0x{consumed.parent.span_id:016x}"]
    assert publish["kind"] == "SpanKind.PRODUCER" and publish["name"] == f"send {ORDERS_EVENTS}"
    # ... which is a child of the request's server span, itself the caller's child, with the
    # statement that wrote the order (and its outbox row) in between
    server = by_id[publish["parent_id"]]
    assert server["kind"] == "SpanKind.SERVER" and server["name"] == "POST /v1/orders"
    assert server["parent_id"] == f"0x{caller_span}"
    statements = [s["attributes"].get("db.statement") or s["attributes"].get("db.query.text") or ""
                  for s in orders_spans if s["kind"] == "SpanKind.CLIENT" and s["parent_id"] == server["context"]["span_id"]]
    assert any("INSERT INTO orders" in s and "INSERT INTO flint_outbox" in s for s in statements), statements
    # and the probe's line for the message names the trace, the event and where it came from
    # (written once the message's transaction committed, a moment after the handler ran)
    line = await eventually(lambda: next((line for line in map(json.loads, lines.getvalue().splitlines())
                                          if line.get("trace_id") == trace_id and line.get("outcome") == "processed"),
                                         None), timeout=10, message="the probe's processed line")
    assert line["event_type"] == ORDER_CREATED and line["topic"] == ORDERS_EVENTS
    assert {"partition", "offset", "event_id", "duration_ms", "correlation_id"} <= set(line)


def _trace(spans: list[dict], trace_id: str, must_have: set[str]) -> list[dict] | None:
    found = [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]
    return found if must_have <= {s["kind"] for s in found} else None


async def test_with_tracing_off_the_callers_trace_still_rides_the_outbox_into_kafka(server_url, kafka_bootstrap):
    from tests.orders.service import running_orders_service

    assert not tracing.enabled()
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    traceparent = f"00-{trace_id}-{caller_span}-01"
    async with running_orders_service(server_url, kafka_bootstrap) as orders:
        merchant = new_id("mer")
        order = await orders.create_order(merchant, headers={"traceparent": traceparent})
        [event] = await orders.order_events(order["id"], 1)
        # the row kept the caller's traceparent, and the relay sent it with the event
        stored = await orders.pool.fetchval("SELECT traceparent FROM flint_outbox WHERE event_id = $1", event["id"])
        assert stored == traceparent
        [headers] = orders.tap.headers(ORDERS_EVENTS, event["id"])
        assert headers["traceparent"] == traceparent
