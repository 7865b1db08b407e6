"""While PostgreSQL is down, the orders API answers 503 problem+json with Retry-After on the
same keep-alive connection, and serves again once the database is back. The test stops a
PostgreSQL of its own (tests/support/postgres_cluster.py), never the shared one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from flint_contracts.ids import new_id
from flint_orders.app import create_app
from flint_orders.config import OrdersSettings
from tests.orders.service import order_body
from tests.support.postgres_cluster import PostgresCluster
from tests.support.http_server import OneConnection, serving
from tests.support.polling import eventually
from tests.support.tokens import ISSUER, TestIssuer

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres(monkeypatch) -> Iterator[PostgresCluster]:
    monkeypatch.setenv("FLINT_TEST_PG_PORTS", "56200-56299")  # the ports of this workstream's servers
    server = PostgresCluster()
    try:
        server.start()
        yield server
    finally:
        server.remove()


async def test_a_database_outage_is_a_503_with_retry_after_and_the_connection_survives(
    postgres: PostgresCluster, kafka_bootstrap: str,
):
    # given the orders API (HTTP only) on a database of its own, and an order
    issuer = TestIssuer()
    settings = OrdersSettings(database_url=postgres.url, kafka_bootstrap_servers=kafka_bootstrap, installs_url=ISSUER,
                              role="api", secret=secrets.token_urlsafe(40), db_pool_min=1, db_pool_max=4)
    app = create_app(settings, jwks_transport=issuer.transport)
    merchant = new_id("mer")
    auth = {"Authorization": f"Bearer {issuer.token(merchant, 'orders:read orders:write', install_id=None)}"}
    async with app.router.lifespan_context(app), serving(app) as url, OneConnection(url) as http:
        created = await http.request("POST", "/v1/orders", headers=auth, json=order_body())
        assert created.status_code == 201
        order_path = f"/v1/orders/{created.json()['id']}"
        assert (await http.request("GET", order_path, headers=auth)).status_code == 200  # the fast path from now on

        # when the database stops at once
        postgres.stop_immediately()

        # then reads (the fast path and the routes) and writes are 503 problems with Retry-After
        for method, path, body in [("GET", order_path, None), ("GET", "/v1/orders", None),
                                   ("POST", "/v1/orders", order_body()), ("GET", order_path, None)]:
            response = await http.request(method, path, headers=auth, json=body)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == str(settings.retry_after_seconds)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "service_unavailable"
            assert response.json()["correlation_id"] == response.headers["x-correlation-id"]

        # and once it is back, the same connection is served again
        postgres.start()

        async def served() -> httpx.Response | None:
            response = await http.request("GET", order_path, headers=auth)
            return response if response.status_code == 200 else None

        await eventually(served, timeout=30, interval=0.2, message="a read after the database came back")
        assert http.still_one_connection()
