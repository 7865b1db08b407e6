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


async def test_a_worker_process_serves_its_health_routes_and_nothing_else(pool):
    # given a service's app built with the chassis (a route of its own beside the health routes)
    from fastapi import APIRouter

    from flint_chassis.config import ServiceSettings
    from flint_chassis.http import service_app
    from flint_chassis.serve import served_app

    own = APIRouter()
    own.add_api_route("/v1/things", lambda: {"things": []}, methods=["GET"])
    app = service_app(ServiceSettings(), title="t", summary="s", version="1", servers=[], routers=[own],
                      health_checks={"database": database_check(lambda: pool)}, pool=lambda: pool)
    # when it runs as --role worker
    worker = served_app(app, "worker")
    # then probes reach /healthz and /readyz, and the API is not served
    assert (await get(worker, "/healthz")).status_code == 200
    assert (await get(worker, "/readyz")).json()["checks"] == {"database": "ok"}
    assert (await get(worker, "/v1/things")).status_code == 404
    assert (await get(app, "/v1/things")).status_code == 200
