"""The composition root: builds the orders service from its settings. Nothing connects at
import time; ``create_app`` only wires things, and its lifespan starts them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from flint_chassis.auth import TokenVerifier, service_verifier
from flint_chassis.db import create_pool
from flint_chassis.health import health_router
from flint_chassis.middleware import CorrelationMiddleware
from flint_chassis.problems import install_problem_handlers, problem_response, Problem
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders import repository, subscribers
from flint_orders.api import ApiContext, domain_problem, router
from flint_orders.config import AUDIENCE, OrdersSettings
from flint_orders.fast_read import FastOrderReads
from flint_orders.domain import DomainError

MIGRATIONS = Path(__file__).parent / "migrations"
HOUSEKEEPING_INTERVAL = 3600.0
log = logging.getLogger("flint.orders")


def create_runtime(settings: OrdersSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings,
        migrations=MIGRATIONS,
        produces=[ORDERS_EVENTS],
        subscriptions=subscribers.SUBSCRIPTIONS,
        errors=subscribers.rules,
    )


def create_verifier(
    settings: OrdersSettings, pool: asyncpg.Pool, jwks_transport: httpx.AsyncBaseTransport | None = None
) -> TokenVerifier:
    return service_verifier(settings, pool, audience=AUDIENCE, cache_size=settings.token_cache_size,
                            jwks_transport=jwks_transport)


async def create_read_pool(settings: OrdersSettings) -> asyncpg.Pool:
    """Connections for the read routes and token checks. They only ever run single SELECTs,
    so there is no session state to clear when one goes back to the pool: skipping asyncpg's
    reset (a round trip of its own on every release) nearly halves the cost of a read."""
    return await create_pool(settings.service_database_url, min_size=settings.db_pool_min,
                             max_size=settings.db_pool_max, reset=False)


def create_app(
    settings: OrdersSettings | None = None, *, jwks_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The orders service as an ASGI app. ``jwks_transport`` lets tests serve the issuer's
    keys in-process (tests/support/tokens.py)."""
    settings = settings or OrdersSettings()
    runtime = create_runtime(settings)
    context = ApiContext(settings, runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            context.read_pool = await create_read_pool(settings)
            context.verifier = create_verifier(settings, context.read_pool, jwks_transport)
            housekeeping = asyncio.create_task(_housekeeping(runtime), name="orders-housekeeping")
            try:
                yield
            finally:
                housekeeping.cancel()
                await asyncio.gather(housekeeping, return_exceptions=True)
                context.verifier = None
                await context.read_pool.close()
                context.read_pool = None

    app = FastAPI(
        title="Flint orders",
        version="1.0.0",
        summary="The authoritative order record, its timeline and refund context.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, error: DomainError) -> JSONResponse:
        return problem_response(domain_problem(error), request)

    @app.exception_handler(repository.ConcurrentChange)
    async def on_concurrent_change(request: Request, error: repository.ConcurrentChange) -> JSONResponse:
        return problem_response(Problem(409, "Conflict", f"{error}; retry", type="https://flint.dev/problems/conflict"),
                                request)

    app.include_router(health_router(runtime.health_checks()))
    app.include_router(router(context))
    # Inside the correlation middleware (added last, so outermost): fast reads carry the id too.
    app.add_middleware(FastOrderReads, context=context)
    app.add_middleware(CorrelationMiddleware)
    app.state.runtime = runtime
    app.state.context = context
    return app


async def _housekeeping(runtime: ServiceRuntime) -> None:
    """Forgets expired Idempotency-Keys, hourly."""
    while True:
        await asyncio.sleep(HOUSEKEEPING_INTERVAL)
        try:
            if runtime.pool is not None:
                await repository.purge_expired_keys(runtime.pool)
        except Exception as error:  # housekeeping must never take the service down
            log.warning("purging idempotency keys failed: %s", error)
