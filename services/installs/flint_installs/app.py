"""The composition root: ``create_app(settings)`` builds the FastAPI app and everything it
needs, and connects nothing. The app's lifespan starts the service (database, migrations,
topics, outbox relay, signing keys); ``python -m flint_installs`` starts it before serving."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from flint_chassis.http import service_app
from flint_installs import api, oauth
from flint_installs.delivery import api as delivery_api
from flint_installs.kafka import api as kafka_api
from flint_installs.config import InstallsSettings
from flint_installs.context import ServiceContext


def create_app(settings: InstallsSettings | None = None, *, manage_lifespan: bool = True) -> FastAPI:
    """The installs service. With ``manage_lifespan=False`` the caller runs
    ``app.state.installs.running()`` itself (``__main__`` does, to report start-up errors in one line)."""
    settings = settings or InstallsSettings()
    context = ServiceContext(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not manage_lifespan:
            yield
            return
        async with context.running():
            yield

    app = service_app(
        settings,
        title="Flint installs",
        version="1",
        summary="Merchants, partner apps, OAuth 2.0 installs with PKCE, the tokens every Flint service trusts, and "
                "event delivery to plugins (webhooks, the event feed, Kafka credentials).",
        servers=[{"url": settings.issuer, "description": "This installs service (the token issuer)"}],
        routers=[api.router, delivery_api.router, delivery_api.feed_router, kafka_api.router, oauth.router],
        health_checks=context.runtime.health_checks(),
        pool=lambda: context.runtime.pool,
        lifespan=lifespan,
    )
    app.state.installs = context
    return app


def openapi_app() -> FastAPI:
    """The app as documented in docs/openapi/installs.json (default settings, not the environment's)."""
    return create_app(InstallsSettings(installs_url="http://127.0.0.1:8101"))
