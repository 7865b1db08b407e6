"""What every request leaves behind: its metrics and one access log line.

``RequestObserver`` sits just inside the correlation middleware (so the line carries the
correlation id, and the trace id when there is one) and outside the error boundary (so a 500
it answers is counted as one). For each request it records
``flint_http_requests_total{method, route, status}`` and
``flint_http_request_duration_seconds{method, route}``, and logs on ``flint.access``::

    {"message": "POST /v1/orders 201", "method": "POST", "route": "/v1/orders", "path": "/v1/orders",
     "status": 201, "duration_ms": 4.2, "subject": "mer_…", "correlation_id": "req_…", "trace_id": "…"}

``route`` is the route's template (``/v1/orders/{order_id}``), never the path, so ids do not
become series; a request no route matched is ``unmatched``. ``subject`` is the verified
token's subject when the request had one (the token itself is never logged). Probes and
scrapes (``/healthz``, ``/readyz``, ``/metrics``) are logged at DEBUG.

A layer that answers before routing (a fast path) names its route and caller with
:func:`note_route` and :func:`note_subject`.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flint_chassis.logs import log_fields, mask_secrets
from flint_chassis.metrics import UNMATCHED_ROUTE, HttpObservations

log = logging.getLogger("flint.access")

ROUTE_KEY = "flint.route"  # scope key a fast path sets to its route template
SUBJECT_KEY = "token_subject"  # key in scope["state"]: the verified token's subject
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def note_route(scope: Scope, template: str) -> None:
    """Name the route template of a request answered without routing."""
    scope[ROUTE_KEY] = template


def note_subject(scope: Scope, subject: str) -> None:
    """Name the verified caller of the request, for its access line."""
    scope.setdefault("state", {})[SUBJECT_KEY] = subject


def route_of(scope: Scope) -> str:
    """The template of the route that answered, or ``unmatched``."""
    return getattr(scope.get("route"), "path", None) or scope.get(ROUTE_KEY) or UNMATCHED_ROUTE


class RequestObserver:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self.observations = HttpObservations()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if nothing was sent

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            self.observations.observe(scope["method"], route, status, seconds)
            if self.access_log:
                self._log(scope, route, status, seconds)

    @staticmethod
    def _log(scope: Scope, route: str, status: int, seconds: float) -> None:
        path, method = scope["path"], scope["method"]
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if not log.isEnabledFor(level):
            return
        state = scope.get("state")
        log_fields(log, level, f"{method} {route} {status}", method=method, route=route, path=mask_secrets(path),
                   status=status, duration_ms=round(seconds * 1000, 3),
                   subject=state.get(SUBJECT_KEY) if state else None)
