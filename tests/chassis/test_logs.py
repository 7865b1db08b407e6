"""Logs are JSON lines with the correlation id, and secrets never reach them."""

from __future__ import annotations

import io
import json
import logging

import httpx
import structlog
from fastapi import FastAPI

from flint_chassis.logs import (
    JsonFormatter,
    bind,
    configure_logging,
    correlation,
    current_correlation_id,
    mask_secrets,
)
from flint_chassis.http.correlation import CorrelationMiddleware


def render(message: str, *args) -> dict:
    record = logging.LogRecord("flint.test", logging.INFO, __file__, 1, message, args, None)
    return json.loads(JsonFormatter("orders").format(record))


def test_a_log_line_is_json_with_service_level_and_correlation_id():
    with correlation("evt_123"):
        line = render("order %s paid", "ord_1")
    assert line["service"] == "orders" and line["level"] == "info"
    assert line["message"] == "order ord_1 paid" and line["correlation_id"] == "evt_123"


def test_secrets_in_messages_are_masked():
    text = ("Authorization: Bearer eyJhbGciOi.abc.def client_secret=cs_live_123 "
            "password='hunter2' code_verifier=abcdef")
    masked = mask_secrets(text)
    for secret in ("eyJhbGciOi", "cs_live_123", "hunter2", "abcdef"):
        assert secret not in masked
    assert "Bearer ***" in masked


async def test_requests_carry_their_correlation_id_into_handlers_and_back():
    app = FastAPI()
    app.add_middleware(CorrelationMiddleware)

    @app.get("/who")
    async def who() -> dict:
        return {"correlation_id": current_correlation_id()}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        given = await client.get("/who", headers={"X-Correlation-Id": "abc-123"})
        made = await client.get("/who")
    assert given.json() == {"correlation_id": "abc-123"} and given.headers["x-correlation-id"] == "abc-123"
    assert made.json()["correlation_id"].startswith("req_") and made.headers["x-correlation-id"] == made.json()["correlation_id"]


def test_context_bound_while_handling_reaches_every_line_and_secret_values_are_masked():
    # given a structlog logger (configured as a service does) and context bound for one message
    root, stream = logging.getLogger(), io.StringIO()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("orders")
        root.handlers[0].setStream(stream)
        # when a line is logged inside and one outside
        with correlation("evt_7"), bind(topic="flint.payments.events.v1"):
            structlog.get_logger("flint.consumer").info("message processed", client_secret="cs_live_9")
        logging.getLogger("flint.consumer").warning("idle")
    finally:
        root.handlers[:], _ = handlers, root.setLevel(level)
        structlog.reset_defaults()
    # then the first carries the context, the second none, and no secret is written
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["correlation_id"], inside["topic"], inside["message"]) == (
        "evt_7", "flint.payments.events.v1", "message processed")
    assert "cs_live_9" not in stream.getvalue() and inside["client_secret"] == "***"
    assert "correlation_id" not in outside and "topic" not in outside and outside["level"] == "warning"
