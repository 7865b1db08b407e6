"""An installs service per test: its own database, run in-process with its real lifespan
(migrations, topics, outbox relay, signing keys) against the real PostgreSQL and Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from flint_installs.app import create_app
from tests.installs.support import Flint, settings_for


@pytest.fixture
def installs_settings(server_url: str, database_url: str, kafka_bootstrap: str):
    return settings_for(server_url, database_url, kafka_bootstrap)


@pytest.fixture
async def flint(installs_settings) -> AsyncIterator[Flint]:
    app = create_app(installs_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=installs_settings.issuer) as client:
            driver = Flint(client, app.state.installs)
            driver.app = app
            yield driver
