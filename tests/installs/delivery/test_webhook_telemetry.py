"""What an operator sees of webhook delivery: each attempt counted by outcome with its
latency (``/metrics``), and the trace of the event carried from the router to the receiver,
whether this process exports spans or not. Real PostgreSQL, a real receiver over a socket."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from flint_chassis import tracing
from flint_contracts.webhooks import new_secret
from flint_installs.delivery import repository
from flint_installs.delivery.dispatch import Dispatcher
from flint_installs.delivery.router import route_event
from flint_installs.delivery.sender import WebhookSender
from tests.installs.delivery import events
from tests.installs.delivery.conftest import dev_settings
from tests.installs.delivery.store import T0, add_merchant, endpoint_of, install_app

pytestmark = pytest.mark.integration

LATER = T0 + timedelta(hours=1)
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


def attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("flint_webhook_attempts_total", {"outcome": outcome}) or 0.0


def timed(outcome: str) -> float:
    return REGISTRY.get_sample_value("flint_webhook_attempt_duration_seconds_count", {"outcome": outcome}) or 0.0


async def _merchant_with_endpoints(db: asyncpg.Pool, sealer, *urls: str) -> str:
    async with db.acquire() as conn:
        merchant = await add_merchant(conn)
        installed = await install_app(conn, merchant, ("orders:read",))
        for url in urls:
            endpoint = await endpoint_of(conn, installed.install_id, url)
            await repository.add_secret(conn, sealer, endpoint, new_secret(), now=T0)
    return merchant


async def _route_in_callers_trace(db: asyncpg.Pool, merchant: str) -> None:
    """Route one order event as the router's consumer would, inside the caller's trace."""
    with tracing.span("process flint.orders.events.v1", kind=SpanKind.CONSUMER, parent=CALLER):
        async with db.acquire() as conn, conn.transaction():
            assert await route_event(conn, events.order_event(merchant_id=merchant, time=LATER), None, now=LATER)


async def _deliver_all(db: asyncpg.Pool, sealer) -> None:
    settings = dev_settings()
    async with WebhookSender(settings) as sender:
        assert await Dispatcher(db, sender, sealer, settings, clock=lambda: LATER).deliver_due() > 0


async def test_each_attempt_is_counted_and_timed_by_outcome(db, sealer, receiver):
    # given an event routed to an endpoint that accepts and one that answers 500
    merchant = await _merchant_with_endpoints(db, sealer, receiver.url("/ok"), receiver.url("/error"))
    await _route_in_callers_trace(db, merchant)
    delivered, refused = attempts("delivered"), attempts("http_status")
    delivered_timed, refused_timed = timed("delivered"), timed("http_status")
    # when the sender tries both
    await _deliver_all(db, sealer)
    # then one attempt of each outcome is counted, each with its latency
    assert (attempts("delivered") - delivered, attempts("http_status") - refused) == (1, 1)
    assert (timed("delivered") - delivered_timed, timed("http_status") - refused_timed) == (1, 1)


async def test_the_receiver_gets_the_callers_trace_when_this_process_exports_none(db, sealer, receiver):
    # given tracing off in this process, and an event routed inside a caller's trace
    assert not tracing.enabled()
    merchant = await _merchant_with_endpoints(db, sealer, receiver.url("/ok"))
    await _route_in_callers_trace(db, merchant)
    # when it is delivered
    await _deliver_all(db, sealer)
    # then the webhook carries the caller's traceparent as it came in
    [request] = receiver.accepted
    assert request.headers["traceparent"] == CALLER


async def test_an_attempt_is_a_span_of_the_events_trace_that_the_receiver_continues(db, sealer, receiver):
    # given tracing on, and an event routed inside a caller's trace
    exporter = InMemorySpanExporter()
    tracing.configure_tracing("installs", exporter=exporter)
    try:
        merchant = await _merchant_with_endpoints(db, sealer, receiver.url("/error"))
        await _route_in_callers_trace(db, merchant)
        # when the attempt fails
        await _deliver_all(db, sealer)
    finally:
        tracing.shutdown_tracing()  # exports what is pending
    # then it is a CLIENT span of the caller's trace, under the router's consumer span, marked failed
    spans = {span.name: span for span in exporter.get_finished_spans()}
    webhook, routed = spans["webhook order.created"], spans["process flint.orders.events.v1"]
    assert webhook.kind == SpanKind.CLIENT and f"{webhook.context.trace_id:032x}" == CALLER_TRACE
    assert webhook.parent.span_id == routed.context.span_id
    assert webhook.attributes["flint.webhook_outcome"] == "http_status"
    assert webhook.attributes["http.response.status_code"] == 500 and not webhook.status.is_ok
    # and the receiver was told that span, so its own work joins the same trace
    [request] = receiver.requests
    assert request.headers["traceparent"] == f"00-{CALLER_TRACE}-{webhook.context.span_id:016x}-01"
