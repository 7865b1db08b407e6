"""``/healthz`` (the process is alive) and ``/readyz`` (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]


def database_check(pool: Callable[[], asyncpg.Pool | None]) -> Check:
    async def check() -> None:
        current = pool()
        if current is None:
            raise RuntimeError("database pool not open")
        async with current.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    return check


def health_router(checks: dict[str, Check]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Every dependency answers")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), 3)
                results[name] = "ok"
            except Exception as error:  # reported, not raised: this endpoint is the report
                results[name] = f"failing: {error}"
        ready = all(value == "ok" for value in results.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": results},
                            status_code=200 if ready else 503)

    return router
