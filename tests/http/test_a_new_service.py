"""A service not yet written gets the whole HTTP contract by building its app with
``service_app``: here a made-up "widgets" service of a few lines, on a database of its own."""

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
from pydantic import BaseModel, ConfigDict, Field

from flint_chassis.auth import Authenticator, Principal, service_verifier
from flint_chassis.config import ServiceSettings
from flint_chassis.http import (
    DEFAULT_LIMIT, IdempotencyKey, Limit, ServiceHttp, StartingAfter, json_response, page_json,
    service_app, service_http, split_page,
)
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.ids import new_id
from tests.support.tokens import ISSUER, TestIssuer

pytestmark = pytest.mark.integration


class WidgetSettings(ServiceSettings):
    service_name: ClassVar[str] = "widgets"


class NewWidget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


def widgets_app(settings: WidgetSettings, migrations: Path, issuer: TestIssuer) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=migrations, run_relay=False, run_consumers=False)
    verifier: list = []
    auth = Authenticator(lambda: verifier[0] if verifier else None)
    router = APIRouter(prefix="/v1", tags=["widgets"])
    http = Depends(service_http)

    @router.post("/widgets", status_code=201, summary="Create a widget")
    async def create_widget(request: Request, body: NewWidget, principal: Principal = auth.require("widgets:write"),
                            idempotency_key: IdempotencyKey = None, edge: ServiceHttp = http) -> Response:
        async def create(conn: asyncpg.Connection) -> Response:
            widget = {"id": new_id("evt"), "name": body.name, "merchant_id": principal.merchant_id}
            await conn.execute("INSERT INTO widgets (id, merchant_id, name) VALUES ($1, $2, $3)",
                               widget["id"], principal.merchant_id, body.name)
            return json_response(widget, 201)

        return await edge.idempotency.run(request, caller=principal.caller,
                                          key=idempotency_key, action=create)

    @router.get("/widgets", summary="List widgets")
    async def list_widgets(principal: Principal = auth.require("widgets:read"), limit: Limit = DEFAULT_LIMIT,
                           starting_after: StartingAfter = None, edge: ServiceHttp = http) -> Response:
        after = edge.cursors.decode("widgets", principal.merchant_id, starting_after)[0] if starting_after else ""
        rows = await runtime.pool.fetch("SELECT id, name FROM widgets WHERE merchant_id = $1 AND id > $2 ORDER BY id "
                                        "LIMIT $3", principal.merchant_id, after, limit + 1)
        page, more = split_page(rows, limit)
        cursor = edge.cursors.encode("widgets", principal.merchant_id, [page[-1]["id"]]) if more else None
        return json_response(page_json([json_response(dict(r)).body for r in page], more, cursor))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            verifier.append(service_verifier(settings, runtime.pool, audience="flint:widgets",
                                             jwks_transport=issuer.transport))
            yield

    return service_app(settings, title="Flint widgets", summary="A service of a few lines.", version="1",
                       servers=[{"url": "http://127.0.0.1:9999"}], routers=[router],
                       health_checks=runtime.health_checks(), pool=lambda: runtime.pool, lifespan=lifespan)



async def test_a_service_of_a_few_lines_answers_the_whole_contract(server_url, kafka_bootstrap, tmp_path):
    (tmp_path / "0001_widgets.sql").write_text(
        "CREATE TABLE widgets (id text PRIMARY KEY, merchant_id text NOT NULL, name text NOT NULL);")
    database = f"test_widgets_{secrets.token_hex(6)}"
    settings = WidgetSettings(database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
                              installs_url=ISSUER, secret=secrets.token_urlsafe(40))
    issuer = TestIssuer()
    app = widgets_app(settings, tmp_path, issuer)
    merchant = new_id("mer")
    token = issuer.token(merchant, "widgets:read widgets:write", install_id=None, audience="flint:widgets")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://widgets.test", headers=auth) as client:
            # idempotent creates
            key = {"Idempotency-Key": "w-1"}
            first = await client.post("/v1/widgets", json={"name": "Sprocket"}, headers=key)
            again = await client.post("/v1/widgets", json={"name": "Sprocket"}, headers=key)
            other = await client.post("/v1/widgets", json={"name": "Cog"}, headers=key)
            assert first.status_code == again.status_code == 201 and again.content == first.content
            assert again.headers["idempotent-replayed"] == "true" and first.headers["ratelimit-limit"] == "100"
            assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
            # edge checks, errors in our words
            nul = await client.post("/v1/widgets", json={"name": "a\u0000b"})
            assert (nul.status_code, nul.json()["errors"][0]["code"]) == (422, "invalid_text")
            empty = await client.post("/v1/widgets", json={"name": ""})
            assert empty.json()["errors"] == [{"field": "name", "code": "too_short", "message": "must not be empty"}]
            assert (await client.get("/v1/widgets?colour=red")).json()["errors"][0]["code"] == "unknown_parameter"
            assert (await client.get("/v1/nothing")).json()["code"] == "not_found"
            # signed cursors
            for name in ("A", "B"):
                await client.post("/v1/widgets", json={"name": name})
            page = (await client.get("/v1/widgets?limit=2")).json()
            rest = (await client.get(f"/v1/widgets?limit=2&starting_after={page['next_cursor']}")).json()
            assert page["has_more"] and not rest["has_more"] and len(page["data"]) + len(rest["data"]) == 3
            forged = await client.get(f"/v1/widgets?starting_after={page['next_cursor'][:-2]}xx")
            assert forged.json()["code"] == "invalid_cursor"
            # health and the OpenAPI conventions
            assert (await client.get("/healthz")).status_code == 200
            document = (await client.get("/openapi.json")).json()
            assert document["paths"]["/v1/widgets"]["post"]["operationId"] == "createWidget"
            assert "Problem" in document["components"]["schemas"]
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
