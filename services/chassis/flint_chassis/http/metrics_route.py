"""``GET /metrics``: the Prometheus text format, for scrapers (``flint_chassis.metrics``).

Not in the OpenAPI document and not behind a token, like ``/healthz`` and ``/readyz``:
publish it only where the platform's Prometheus reaches it (docs/operations.md)."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import Response

from flint_chassis.runtime_metrics import RuntimeMetrics

METRICS_PATH = "/metrics"


def metrics_router(metrics: RuntimeMetrics | None) -> APIRouter:
    """The route; ``metrics`` adds the runtime's scrape-time metrics (backlog, lag, pools)."""
    router = APIRouter()

    @router.get(METRICS_PATH, include_in_schema=False)
    async def scrape() -> Response:
        body = await metrics.render() if metrics is not None else generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
