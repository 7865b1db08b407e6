"""The chassis' access line, the Kafka client's start-up noise kept below WARNING, metrics
recorded per route template, and a trace id carried through while tracing is off."""

from __future__ import annotations

import io
import json
import logging

import httpx
from fastapi import APIRouter, FastAPI

from flint_chassis.config import ServiceSettings
from flint_chassis.health import database_check
from flint_chassis.http import service_app
from flint_chassis.logs import configure_logging
from flint_chassis.metrics import HTTP_REQUESTS
from flint_chassis import tracing

TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


class Settings(ServiceSettings):
    service_name = "observed"


def observed_app() -> FastAPI:
    router = APIRouter()

    @router.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict:
        return {"id": thing_id, "trace": tracing.current_traceparent()}

    return service_app(Settings(secret="s" * 40), title="t", summary="s", version="1", servers=[], routers=[router],
                       health_checks={"database": database_check(lambda: None)}, pool=lambda: None)


def captured(service: str = "observed") -> tuple[io.StringIO, logging.Handler, list[logging.Handler], int]:
    root, stream = logging.getLogger(), io.StringIO()
    saved, level = root.handlers[:], root.level
    configure_logging(service)
    root.handlers[0].setStream(stream)
    return stream, root.handlers[0], saved, level


def restore(saved: list[logging.Handler], level: int) -> None:
    root = logging.getLogger()
    root.handlers[:] = saved
    root.setLevel(level)


async def test_one_access_line_per_request_with_route_status_duration_ids_and_caller_but_no_token():
    stream, _, saved, level = captured()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(observed_app()), base_url="http://t") as http:
            answer = await http.get("/v1/things/th_1", headers={
                "X-Correlation-Id": "req-abc", "traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01",
                "Authorization": "Bearer secret-token-text"})
            await http.get("/healthz")
    finally:
        restore(saved, level)
    assert answer.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "flint.access"]  # /healthz is DEBUG
    assert access["message"] == "GET /v1/things/{thing_id} 200"
    assert (access["method"], access["route"], access["path"], access["status"]) == (
        "GET", "/v1/things/{thing_id}", "/v1/things/th_1", 200)
    assert access["duration_ms"] >= 0 and access["level"] == "info" and access["service"] == "observed"
    assert access["correlation_id"] == "req-abc" and access["trace_id"] == TRACE_ID
    assert "secret-token-text" not in stream.getvalue()


async def test_requests_are_counted_by_route_template_and_an_unknown_path_is_unmatched():
    def count(route: str, status: str) -> float:
        return HTTP_REQUESTS.labels("GET", route, status)._value.get()

    before = count("/v1/things/{thing_id}", "200"), count("unmatched", "404")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(observed_app()), base_url="http://t") as http:
        await http.get("/v1/things/a")
        await http.get("/v1/things/b")
        await http.get("/no/such/path/x1")
    assert count("/v1/things/{thing_id}", "200") - before[0] == 2
    assert count("unmatched", "404") - before[1] == 1


async def test_without_tracing_an_incoming_traceparent_is_carried_into_the_work():
    assert not tracing.enabled()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(observed_app()), base_url="http://t") as http:
        carried = (await http.get("/v1/things/a", headers={"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01"})).json()
        alone = (await http.get("/v1/things/a")).json()
        hostile = (await http.get("/v1/things/a", headers={"traceparent": "00-zz-\x01-01"})).json()
    assert carried["trace"] == f"00-{TRACE_ID}-{SPAN_ID}-01"  # what the outbox row stores
    assert alone["trace"] is None and hostile["trace"] is None


def test_the_kafka_clients_retriable_start_up_errors_are_written_below_warning():
    stream, _, saved, level = captured()
    try:
        coordinator = logging.getLogger("aiokafka.consumer.group_coordinator")
        coordinator.error("Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError")
        coordinator.warning("Marking the coordinator dead (node 1)for group orders.commands.")
        coordinator.error("OffsetCommit failed for group g due to group error (RebalanceInProgressError), will rejoin")
        coordinator.error("Heartbeat session expired - marking coordinator dead")  # not a start-up matter
    finally:
        restore(saved, level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    def level_of(start: str) -> str:
        return next(line["level"] for line in lines if line["message"].startswith(start))

    assert not any("Group Coordinator Request" in line["message"] for line in lines)  # DEBUG: not written at INFO
    assert level_of("Marking the coordinator dead") == "info"
    assert level_of("OffsetCommit failed for group g") == "info"
    assert level_of("Heartbeat session expired") == "error"
