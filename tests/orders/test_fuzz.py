"""Property-based fuzz of every operation of the orders API (schemathesis, valid and
invalid inputs from the OpenAPI document) against the running service on the real
PostgreSQL and Kafka: no answer is a server error, and every error is a Problem."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from flint_contracts.ids import new_id
from flint_orders.app import create_app
from flint_orders.config import OrdersSettings
from tests.orders.service import order_body
from tests.support.fuzzing import CASES, FUZZ_SETTINGS, UNLIMITED, check_answer, fuzz_secret, load_schema
from tests.support.threaded_server import ThreadedServer
from tests.support.tokens import ISSUER, TestIssuer

pytestmark = pytest.mark.integration

MERCHANT = new_id("mer")


class Target:
    def __init__(self, url: str, issuer: TestIssuer, order_ids: list[str]) -> None:
        self.url, self.order_ids = url, order_ids
        self.merchant = {"Authorization": f"Bearer {issuer.token(MERCHANT, 'orders:read orders:write', install_id=None)}"}
        self.app = {"Authorization": f"Bearer {issuer.token(MERCHANT, 'orders:read orders:write')}"}


@pytest.fixture(scope="module")
def orders_target(server_url: str, kafka_bootstrap: str) -> Iterator[Target]:
    database = f"test_orders_fuzz_{secrets.token_hex(6)}"
    settings = OrdersSettings(database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
                              installs_url=ISSUER, role="api", secret=fuzz_secret(), **UNLIMITED)
    issuer = TestIssuer()
    try:
        with ThreadedServer(create_app(settings, jwks_transport=issuer.transport)) as server:
            target = Target(server.url, issuer, [])
            with httpx.Client(base_url=server.url, headers=target.merchant) as client:
                for _ in range(3):  # real orders, so paths that name one reach past the 404
                    target.order_ids.append(client.post("/v1/orders", json=order_body()).raise_for_status().json()["id"])
            yield target
    finally:
        print(f"\nfuzz: {CASES['orders']} generated cases against orders")
        _drop(server_url, database)


def _drop(server_url: str, database: str) -> None:
    import asyncio

    async def drop() -> None:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


# The committed document (tests/http keeps it equal to the app's): operations are known at
# collection time, so each becomes a test of its own.
schema = load_schema("orders")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_the_orders_api_fail(case, orders_target: Target):
    if "order_id" in (case.path_parameters or {}) and random.random() < 0.5:
        case.path_parameters["order_id"] = random.choice(orders_target.order_ids)
    headers = orders_target.app if case.path.endswith("/metadata") else orders_target.merchant
    if random.random() < 0.1:
        headers = {}  # the generated Authorization header, if any: no token, or a bad one
    response = case.call(base_url=orders_target.url, headers=headers)
    check_answer("orders", case, response)
