"""The composition root: builds the orders service from its settings. Nothing connects at
import time; ``create_app`` only wires things, and its lifespan starts them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from starlette.middleware import Middleware

from flint_chassis.auth import TokenVerifier, service_verifier
from flint_chassis.db import create_pool
from flint_chassis.http import service_app
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders import subscribers
from flint_orders.api import ApiContext, router
from flint_orders.config import AUDIENCE, OrdersSettings
from flint_orders.domain import DomainError
from flint_orders.fast_create import FastOrderCreates
from flint_orders.fast_read import FastOrderReads
from flint_orders.problems import domain_problem

MIGRATIONS = Path(__file__).parent / "migrations"


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
    runtime.watch_pool("read", lambda: context.read_pool)  # flint_db_pool_* {pool="read"}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            context.read_pool = await create_read_pool(settings)
            context.verifier = create_verifier(settings, context.read_pool, jwks_transport)
            try:
                yield
            finally:
                context.verifier = None
                await context.read_pool.close()
                context.read_pool = None

    app = service_app(
        settings,
        title="Flint orders",
        version="1.0.0",
        summary="The authoritative order record, its timeline and refund context.",
        servers=[{"url": settings.public_url, "description": "This orders service"}],
        routers=[router(context)],
        health_checks=runtime.health_checks(),
        pool=lambda: runtime.pool,
        lifespan=lifespan,
        # Innermost, after the chassis' checks: the fast paths answer most reads and creates.
        inner_middleware=[Middleware(FastOrderReads, context=context), Middleware(FastOrderCreates, context=context)],
        problems={DomainError: domain_problem},
    )
    app.state.runtime = runtime
    app.state.context = context
    return app


def openapi_app() -> FastAPI:
    """The app as documented in docs/openapi/orders.json (default settings, not the environment's)."""
    return create_app(OrdersSettings(public_url="http://127.0.0.1:8102"))
