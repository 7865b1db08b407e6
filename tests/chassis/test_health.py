"""/healthz says the process lives; /readyz says whether its dependencies answer."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from flint_chassis.health import database_check, health_router

pytestmark = pytest.mark.integration


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as client:
        return await client.get(path)


async def test_ready_when_the_database_answers(pool):
    app = FastAPI()
    app.include_router(health_router({"database": database_check(lambda: pool)}))
    response = await get(app, "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_not_ready_naming_the_failing_dependency_while_alive():
    app = FastAPI()
    app.include_router(health_router({"database": database_check(lambda: None)}))
    ready, alive = await get(app, "/readyz"), await get(app, "/healthz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failing: database pool not open"
    assert alive.status_code == 200
