"""Request correlation: every HTTP request carries a correlation id into logs and events.

While tracing is off, an incoming W3C ``traceparent`` is carried the same way
(``flint_chassis.tracing.carried``): its trace id reaches log lines and the outbox rows the
request writes. When tracing is on, the server span made for the request does that."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flint_chassis import tracing
from flint_chassis.logs import correlation
from flint_contracts.ids import new_id

HEADER = "x-correlation-id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER_BYTES = HEADER.encode()
_TRACEPARENT = tracing.TRACEPARENT.encode()


class CorrelationMiddleware:
    """Takes ``X-Correlation-Id`` from the request (or makes one) and echoes it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(_HEADER_BYTES, b"").decode("latin-1")
        correlation_id = incoming if _VALID.match(incoming) else new_id("evt").replace("evt_", "req_")
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((HEADER.encode(), correlation_id.encode()))
            await send(message)

        with correlation(correlation_id), tracing.carried(headers.get(_TRACEPARENT)):
            await self.app(scope, receive, send_with_header)
