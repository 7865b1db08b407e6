"""The composition root: builds the invoicing service from its settings. Nothing connects at
import time; ``create_app`` only wires things, and its lifespan starts them.

What runs follows the role: ``api`` serves the API and the pay pages (and captures through
the payment processor), ``worker`` runs the consumers, the outbox relay, follow-up and the
mail sender, ``all`` both.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from flint_chassis.auth import service_verifier
from flint_chassis.health import Check
from flint_chassis.http import service_app
from flint_chassis.loops import Loop, running, stalled
from flint_chassis.runtime import ServiceRuntime
from flint_chassis.service_secret import ServiceSecret, require_secret
from flint_contracts.topics import INVOICES_EVENTS, PAYMENTS_EVENTS
from flint_invoicing import subscribers
from flint_invoicing.api import ApiContext, router
from flint_invoicing.config import AUDIENCE, InvoicingSettings
from flint_invoicing.domain import Clock, DomainError, OffsetClock, SystemClock
from flint_invoicing.handlers import Tools
from flint_invoicing.hosted import HostedPages
from flint_invoicing.links import LinkVault
from flint_invoicing.pay_forms import PayForms
from flint_invoicing.paying import Payer
from flint_invoicing.problems import domain_problem
from flint_invoicing.smtp import SmtpMailer
from flint_invoicing.worker import FollowUp, MailSender
from flint_payments import PaymentProcessor, SandboxProcessor, SandboxSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_runtime(settings: InvoicingSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings,
        migrations=MIGRATIONS,
        produces=[INVOICES_EVENTS, PAYMENTS_EVENTS],
        subscriptions=subscribers.SUBSCRIPTIONS,
    )


def create_clock(settings: InvoicingSettings) -> Clock:
    """The real time, moved by ``FLINT_INVOICING_CLOCK_OFFSET`` when set."""
    return OffsetClock(timedelta(seconds=settings.clock_offset)) if settings.clock_offset else SystemClock()


def create_app(
    settings: InvoicingSettings | None = None,
    *,
    jwks_transport: httpx.AsyncBaseTransport | None = None,
    processor: PaymentProcessor | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The invoicing service as an ASGI app. Tests may pass the issuer's keys in-process
    (``jwks_transport``), a processor of their own (else the sandbox on ``FLINT_SANDBOX_DATABASE``
    is opened) and a clock they move (else ``create_clock``)."""
    settings = settings or InvoicingSettings()
    runtime = create_runtime(settings)
    clock = clock or create_clock(settings)
    context = ApiContext(runtime)
    pages = HostedPages(public_url=settings.public_url)
    loops: list[Loop] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(), contextlib.AsyncExitStack() as stack:
            secret = _secret(settings)  # after the runtime: an unreachable database is reported first
            pool = runtime.pool
            assert pool is not None
            tools = Tools(clock, settings.public_url, LinkVault(secret))
            context.tools = tools
            if settings.serves_http:
                context.verifier = service_verifier(settings, pool, audience=AUDIENCE,
                                                    cache_size=settings.token_cache_size, jwks_transport=jwks_transport)
                paying_with = processor or await stack.enter_async_context(await _sandbox(settings))
                pages.start(tools, _forms(settings, secret, clock), pool, Payer(pool, paying_with, tools, settings.pay_lock_timeout),
                            test_mode=paying_with.name == "sandbox")
            if settings.runs_worker:
                loops[:] = _worker_loops(settings, pool, tools)
            async with running(*loops):
                yield
            context.verifier = context.tools = None

    app = service_app(
        settings,
        title="Flint invoicing",
        version="1.0.0",
        summary="Invoices for what an order still owes: the hosted pay page, the PDF, reminders and overdue follow-up.",
        servers=[{"url": settings.public_url, "description": "This invoicing service"}],
        routers=[router(context)],
        health_checks={**runtime.health_checks(), **_worker_checks(settings, loops)},
        metrics=runtime.metrics,  # the merged checks above are a plain dict: name the runtime's scrape state
        pool=lambda: runtime.pool,
        lifespan=lifespan,
        problems={DomainError: domain_problem},
    )
    app.mount("/pay", pages.app())
    app.state.runtime = runtime
    app.state.context = context
    app.state.loops = loops
    return app


def openapi_app() -> FastAPI:
    """The app as documented in docs/openapi/invoicing.json (default settings, not the environment's)."""
    return create_app(InvoicingSettings(public_url="http://127.0.0.1:8104"))


# --- parts -----------------------------------------------------------------------------------------


def _secret(settings: InvoicingSettings) -> ServiceSecret:
    # Every role needs it: pay links are stored sealed, and the worker opens them to mail them.
    return require_secret(settings.secret.get_secret_value() if settings.secret else None, service="invoicing")


async def _sandbox(settings: InvoicingSettings) -> SandboxProcessor:
    """The sandbox processor on the ledger every process names (``FLINT_SANDBOX_DATABASE``)."""
    named = {"FLINT_SANDBOX_DATABASE": settings.sandbox_database} if settings.sandbox_database else {}
    return await SandboxProcessor.open(SandboxSettings(DATABASE_URL=settings.database_url, **named))


def _forms(settings: InvoicingSettings, secret: ServiceSecret, clock: Clock) -> PayForms:
    base = urlsplit(settings.public_url)
    return PayForms(secret, clock=clock, max_age=settings.pay_form_max_age,
                    cookie_path=f"{base.path.rstrip('/')}/pay/", secure=base.scheme == "https")


def _worker_loops(settings: InvoicingSettings, pool, tools: Tools) -> list[Loop]:
    sender = MailSender(pool, tools, SmtpMailer.from_settings(settings), mail_from=settings.mail_from,
                        retry_delays=settings.mail_retry_delays)
    return [Loop("follow-up", FollowUp(pool, tools).round, settings.followup_interval),
            Loop("mail", sender.round, settings.mail_interval)]


def _worker_checks(settings: InvoicingSettings, loops: list[Loop]) -> dict[str, Check]:
    """``follow_up``: failing when a loop of the worker is stuck or its rounds fail."""
    if not settings.runs_worker:
        return {}

    async def check() -> None:
        problems = stalled(loops, after=settings.consumer_stall_seconds + settings.smtp_timeout * 3)
        if problems:
            raise RuntimeError("; ".join(problems))

    return {"follow_up": check}
