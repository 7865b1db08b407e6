"""``service_app``: a service's FastAPI app with the whole HTTP contract already in place.

What every route of every service then gets without writing it:
- errors as problem+json with a stable ``code`` (``flint_chassis.problems``), in our own
  words; 400 malformed JSON, 413 a body over ``max_body_bytes`` (before it is parsed), 415
  a body that is not JSON, 422 invalid input, 503 + ``Retry-After`` while the database does
  not answer, 500 for anything unexpected (nothing leaked, logged with the correlation id),
  and the keep-alive connection stays usable after each of them;
- text checked once at the edge: every JSON body (``body.BodyGuard``), every path and query
  parameter (``parameters.check_parameters``), with unknown and repeated parameters refused;
- ``X-Correlation-Id`` on every request, response and log line;
- rate limits per token with ``RateLimit-*`` headers (``ratelimit``), applied by
  ``flint_chassis.auth.Authenticator``;
- signed list cursors (``lists.Cursors``) and ``Idempotency-Key`` (``idempotency``) under
  the service's secret;
- ``/healthz`` and ``/readyz``; the OpenAPI document with operation ids, one Problem schema
  and documented errors (``openapi``); ``/docs`` served from a package, offline;
- ``/metrics`` for Prometheus, one access log line per request and both recorded per route
  template (``observe``); a server span per request when tracing is on (``flint_chassis.tracing``).

A service passes its routers, its lifespan and how to reach its database pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.middleware import Middleware
from starlette.responses import Response

from flint_chassis import tracing
from flint_chassis.config import ServiceSettings
from flint_chassis.errors import Conflict
from flint_chassis.health import Check, health_router
from flint_chassis.http import openapi
from flint_chassis.http.body import BodyGuard
from flint_chassis.http.boundary import ErrorBoundary
from flint_chassis.http.correlation import CorrelationMiddleware
from flint_chassis.http.errors import install_problem_handlers, respond
from flint_chassis.http.idempotency import Idempotency
from flint_chassis.http.lists import Cursors
from flint_chassis.http.metrics_route import metrics_router
from flint_chassis.http.observe import RequestObserver
from flint_chassis.http.parameters import check_parameters
from flint_chassis.http.ratelimit import READ, WRITE, Rate, RateLimitHeaders, TokenBuckets
from flint_chassis.problems import CONFLICT, Problem
from flint_chassis.runtime_metrics import RuntimeMetrics
from flint_chassis.service_secret import ServiceSecret, require_secret

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[Any]]


class ServiceHttp:
    """What the chassis keeps per app for its routes (``app.state.http``): the uses of the
    service's secret (cursors, sealed idempotent answers) and the idempotency store."""

    def __init__(self, settings: ServiceSettings, pool: Callable[[], asyncpg.Pool | None]) -> None:
        self.settings = settings
        self._secret: ServiceSecret | None = None
        self._cursors: Cursors | None = None
        self.idempotency = Idempotency(pool, lambda: self.secret, settings.idempotency_ttl_hours)

    @property
    def secret(self) -> ServiceSecret:
        if self._secret is None:
            value = self.settings.secret.get_secret_value() if self.settings.secret else None
            self._secret = require_secret(value, service=self.settings.service_name)
        return self._secret

    @property
    def cursors(self) -> Cursors:
        if self._cursors is None:
            self._cursors = Cursors(self.secret)
        return self._cursors


async def service_http(request: Request) -> ServiceHttp:
    """The chassis' per-app state, for routes (``Depends(service_http)``). Async on purpose:
    FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per request."""
    return request.app.state.http


def service_app(
    settings: ServiceSettings,
    *,
    title: str,
    summary: str,
    version: str,
    servers: list[dict[str, str]],
    routers: Sequence[APIRouter],
    health_checks: dict[str, Check],
    pool: Callable[[], asyncpg.Pool | None],
    lifespan: Lifespan | None = None,
    inner_middleware: Sequence[Middleware] = (),
    exception_handlers: dict[type[Exception], Callable[..., Any]] | None = None,
    problems: dict[type[Exception], Callable[[Any], Problem]] | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    metrics: RuntimeMetrics | None = None,
) -> FastAPI:
    """The service's app. ``lifespan`` starts and stops the service; ``pool`` returns its
    write pool once started (for idempotency keys); ``inner_middleware`` runs innermost, after
    the chassis' checks (e.g. a fast path that bypasses routing). ``problems`` turns the
    service's own exceptions into problems (``{DomainError: domain_problem}``); a chassis
    ``Conflict`` (a concurrent change) is a 409 asking to retry in every service. ``/metrics``
    reports the runtime's state from ``metrics``, by default the one ``runtime.health_checks()``
    carries."""
    http = ServiceHttp(settings, pool)
    metrics = metrics or getattr(health_checks, "metrics", None)

    @contextlib.asynccontextmanager
    async def chassis_lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A missing secret ends start-up with one line (StartupError); after the service's own
        # start, so an unreachable database is still what is reported first.
        async with lifespan(app) if lifespan is not None else contextlib.nullcontext():
            http.secret  # noqa: B018
            yield

    app = FastAPIOffline(
        title=title, summary=summary, version=version, lifespan=chassis_lifespan,
        docs_url="/docs", redoc_url=None, static_url="/docs/assets",
        swagger_ui_parameters={"validatorUrl": None},
        generate_unique_id_function=openapi.operation_id,
        dependencies=[Depends(check_parameters)],
        openapi_tags=openapi_tags,
        # FastAPI's own telemetry stays off: the chassis traces with the OpenTelemetry
        # instrumentation (one server span per request) and counts in Prometheus.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        middleware=[
            Middleware(CorrelationMiddleware),
            Middleware(RequestObserver, access_log=settings.access_log),
            Middleware(ErrorBoundary, retry_after=settings.retry_after_seconds),
            Middleware(RateLimitHeaders),
            Middleware(BodyGuard, max_bytes=settings.max_body_bytes),
            *inner_middleware,
        ],
        exception_handlers={**_problem_handlers({Conflict: _retry_conflict, **(problems or {})}),
                            **(exception_handlers or {})},
    )
    install_problem_handlers(app)
    app.state.http = http
    app.state.rate_limits = TokenBuckets({  # read per request, by Authenticator and fast paths
        READ: Rate(settings.rate_limit_read_per_second, settings.rate_limit_read_burst),
        WRITE: Rate(settings.rate_limit_write_per_second, settings.rate_limit_write_burst),
    })
    app.include_router(health_router(health_checks, service=settings.service_name, version=settings.version))
    app.include_router(metrics_router(metrics))
    for router in routers:
        app.include_router(router)

    def cached_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.build(app, servers)
        return app.openapi_schema

    app.openapi = cached_openapi  # type: ignore[method-assign]
    tracing.instrument_app(app)
    return app


def _problem_handlers(problems: dict[type[Exception], Callable[[Any], Problem]]) -> dict[type[Exception], Callable[..., Any]]:
    def handler(to_problem: Callable[[Any], Problem]) -> Callable[..., Any]:
        async def handle(request: Request, error: Exception) -> Response:
            return respond(request, to_problem(error))
        return handle
    return {kind: handler(to_problem) for kind, to_problem in problems.items()}


def _retry_conflict(error: Conflict) -> Problem:
    return Problem(CONFLICT, f"{error}; retry")
