"""/healthz says the process lives; /readyz says whether its dependencies answer."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from flint_chassis.health import database_check, health_router
from flint_chassis.serve import served_app

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


async def test_a_worker_serves_its_health_routes_and_nothing_else():
    app = FastAPI()
    app.include_router(health_router({"database": database_check(lambda: None)}))
    app.get("/v1/things")(lambda: {"things": []})
    worker = served_app(app, "worker")
    alive, ready, api = await get(worker, "/healthz"), await get(worker, "/readyz"), await get(worker, "/v1/things")
    assert (alive.status_code, ready.status_code, api.status_code) == (200, 503, 404)
    assert (await get(served_app(app, "all"), "/v1/things")).status_code == 200
