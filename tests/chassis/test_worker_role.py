"""``--role worker`` serves the health routes and the metrics scrape and nothing else, whatever FastAPI version keeps
included routers as (copies of their routes, or the routers themselves)."""

from __future__ import annotations

import httpx
import pytest

from flint_chassis.serve import served_app


@pytest.mark.parametrize("service", ["orders", "installs", "refunds"])
async def test_a_worker_answers_its_health_and_metrics_and_no_api_route(service):
    module = __import__(f"flint_{service}.app", fromlist=["openapi_app"])
    worker = served_app(module.openapi_app(), "worker")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(worker), base_url="http://worker.test") as client:
        alive = await client.get("/healthz")
        scrape = await client.get("/metrics")
        api = await client.get(f"/v1/{service}")
    assert alive.status_code == 200 and alive.json()["status"] == "ok"
    assert alive.json()["service"] == service
    assert scrape.status_code == 200 and "flint_http_requests_total" in scrape.text
    assert api.status_code == 404
