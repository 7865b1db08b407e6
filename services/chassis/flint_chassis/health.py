"""``/healthz`` (the process is alive) and ``/readyz`` (it can do its work).

Each check is an async function: it returns when all is well, raises ``Degraded`` when the
process still does its work but something is off (Kafka down while writes still land in the
outbox), and raises anything else when it cannot (database unreachable, a stalled consumer).
``/readyz`` answers 503 only for the last kind, naming each failing check and why. Given the
service's name and version, both answers say them too (``make status`` shows the version).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT = 3.0


class Degraded(Exception):
    """Working, but not as it should: reported in the body, ``/readyz`` stays 200."""


def database_check(pool: Callable[[], asyncpg.Pool | None]) -> Check:
    async def check() -> None:
        current = pool()
        if current is None:
            raise RuntimeError("database pool not open")
        async with current.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    return check


async def run_checks(checks: dict[str, Check]) -> tuple[str, dict[str, str]]:
    """The overall status (``ready``, ``degraded``, ``not ready``) and each check's result."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT)
            results[name] = "ok"
        except Degraded as warning:
            results[name] = f"degraded: {warning}"
        except Exception as error:  # reported, not raised: this endpoint is the report
            results[name] = f"failing: {error or type(error).__name__}"
    if any(value.startswith("failing") for value in results.values()):
        return "not ready", results
    if any(value.startswith("degraded") for value in results.values()):
        return "degraded", results
    return "ready", results


def health_router(checks: dict[str, Check], *, service: str | None = None, version: str | None = None) -> APIRouter:
    router = APIRouter(tags=["health"])
    about = {key: value for key, value in (("service", service), ("version", version)) if value is not None}

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", **about}

    @router.get("/readyz", summary="The process can do its work (503 names what stops it)")
    async def readyz() -> JSONResponse:
        status, results = await run_checks(checks)
        return JSONResponse({"status": status, "checks": results, **about},
                            status_code=503 if status == "not ready" else 200)

    return router
