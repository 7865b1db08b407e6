"""``Idempotency.run(after_commit=...)``: a create endpoint answers with a later state of what it
created (refunds run the refund on the processor right after storing it), and a replay of the
request returns exactly that answer, not the one committed first."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response

from flint_chassis.config import ServiceSettings
from flint_chassis.http import IdempotencyKey, ServiceHttp, json_response, service_app, service_http
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.ids import new_id

pytestmark = pytest.mark.integration


class JobSettings(ServiceSettings):
    service_name: ClassVar[str] = "jobs"


def jobs_app(settings: JobSettings, migrations: Path) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=migrations, run_relay=False, run_consumers=False)
    router = APIRouter(prefix="/v1", tags=["jobs"])

    @router.post("/jobs", status_code=201, summary="Start a job")
    async def start_job(request: Request, idempotency_key: IdempotencyKey = None,
                        edge: ServiceHttp = Depends(service_http)) -> Response:
        job_id = new_id("evt")

        async def create(conn: asyncpg.Connection) -> Response:
            await conn.execute("INSERT INTO jobs (id, status) VALUES ($1, 'pending')", job_id)
            return json_response({"id": job_id, "status": "pending"}, 201)

        async def run(committed: Response) -> Response:
            # the job is visible to others now; it runs, and the answer says how it ended
            await runtime.pool.execute("UPDATE jobs SET status = 'done' WHERE id = $1", job_id)
            return json_response({"id": job_id, "status": "done"}, 201)

        return await edge.idempotency.run(request, caller="tester", key=idempotency_key, action=create,
                                          after_commit=run)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            yield

    app = service_app(settings, title="Flint jobs", summary="A job runs after its commit.", version="1",
                      servers=[{"url": "http://127.0.0.1:9999"}], routers=[router],
                      health_checks=runtime.health_checks(), pool=lambda: runtime.pool, lifespan=lifespan)
    app.state.runtime = runtime
    return app


async def test_the_answer_after_commit_is_the_one_a_replay_returns(server_url, kafka_bootstrap, tmp_path):
    (tmp_path / "0001_jobs.sql").write_text("CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL);")
    database = f"test_jobs_{secrets.token_hex(6)}"
    settings = JobSettings(database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
                           secret=secrets.token_urlsafe(40))
    app = jobs_app(settings, tmp_path)
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://jobs.test") as client:
            # when a job is started with a key, and the request is replayed
            key = {"Idempotency-Key": "job-1"}
            first = await client.post("/v1/jobs", headers=key)
            again = await client.post("/v1/jobs", headers=key)
            unkeyed = await client.post("/v1/jobs")
            # then both say how it ended, byte for byte, and one job exists for the key
            assert (first.status_code, first.json()["status"]) == (201, "done")
            assert (again.content, again.headers["idempotent-replayed"]) == (first.content, "true")
            assert unkeyed.json()["status"] == "done"
            assert await app.state.runtime.pool.fetchval("SELECT count(*) FROM jobs") == 2
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
