"""The composition root: builds the refunds service from its settings. Nothing connects at
import time; ``create_app`` only wires things, and its lifespan starts them: the chassis
runtime (database, migrations, topics, relay, consumers), the payment processor, the token
verifier, and in worker processes the resumption of pending refunds."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from flint_chassis.auth import service_verifier
from flint_chassis.http import service_app
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.topics import REFUNDS_EVENTS
from flint_payments import PaymentProcessor, SandboxProcessor, SandboxSettings
from flint_refunds import subscribers
from flint_refunds.api import ApiContext, router
from flint_refunds.config import AUDIENCE, RefundsSettings
from flint_refunds.runner import RefundRunner
from flint_refunds.worker import AnswerRuns, RefundWorker

MIGRATIONS = Path(__file__).parent / "migrations"

ProcessorFactory = Callable[[], contextlib.AbstractAsyncContextManager[PaymentProcessor]]
"""Opens the payment processor for the service's lifetime."""


def create_runtime(settings: RefundsSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings,
        migrations=MIGRATIONS,
        produces=[REFUNDS_EVENTS],
        subscriptions=subscribers.SUBSCRIPTIONS,
        errors=subscribers.rules,
    )


def sandbox_processor(settings: RefundsSettings) -> ProcessorFactory:
    """The sandbox on the service's PostgreSQL server; its ledger database and latency come
    from the environment (``FLINT_SANDBOX_DATABASE``, ``FLINT_SANDBOX_LATENCY_MS``)."""

    @contextlib.asynccontextmanager
    async def open_sandbox() -> AsyncIterator[PaymentProcessor]:
        async with await SandboxProcessor.open(SandboxSettings(database_url=settings.database_url)) as sandbox:
            yield sandbox

    return open_sandbox


def create_app(
    settings: RefundsSettings | None = None,
    *,
    processor: ProcessorFactory | None = None,
    jwks_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The refunds service as an ASGI app. ``processor`` opens another payment processor (tests
    name a sandbox ledger of their own); ``jwks_transport`` lets tests serve the issuer's keys
    in-process (tests/support/tokens.py)."""
    settings = settings or RefundsSettings()
    runtime = create_runtime(settings)
    context = ApiContext(settings, runtime)
    open_processor = processor or sandbox_processor(settings)
    held: list[PaymentProcessor] = []
    runner = RefundRunner(settings, lambda: context.pool, lambda: held[0])
    worker = RefundWorker(settings, lambda: context.pool, runner)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(), open_processor() as payment_processor:
            held.append(payment_processor)
            context.verifier = service_verifier(settings, runtime.pool, audience=AUDIENCE,
                                                cache_size=settings.token_cache_size, jwks_transport=jwks_transport)
            context.answers = AnswerRuns(runner, settings.refund_answer_wait)
            if settings.runs_worker:
                worker.start()
            try:
                yield
            finally:
                await worker.stop()
                await context.answers.stop()
                context.verifier = context.answers = None
                held.clear()

    app = service_app(
        settings,
        title="Flint refunds",
        version="1.0.0",
        summary="Refund quotes and refunds on the payment processor; never more than was captured.",
        servers=[{"url": settings.public_url, "description": "This refunds service"}],
        routers=[router(context)],
        health_checks=runtime.health_checks(),
        pool=lambda: runtime.pool,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.context = context
    app.state.runner = runner
    app.state.worker = worker
    return app


def openapi_app() -> FastAPI:
    """The app as documented in docs/openapi/refunds.json (default settings, not the environment's)."""
    return create_app(RefundsSettings(public_url="http://127.0.0.1:8103"))
