"""Property-based fuzz of every operation of the invoicing API (schemathesis, valid and
invalid inputs from the OpenAPI document) against the running service on the real PostgreSQL
and Kafka: no answer is a server error, and every error is a Problem."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from flint_contracts.ids import new_id
from flint_invoicing import repository
from flint_invoicing.app import create_app
from flint_invoicing.config import InvoicingSettings
from tests.contracts.contract_samples import order as order_record
from tests.support.fuzzing import CASES, FUZZ_SETTINGS, UNLIMITED, check_answer, fuzz_secret, load_schema
from tests.support.threaded_server import ThreadedServer
from tests.support.tokens import ISSUER, TestIssuer

pytestmark = pytest.mark.integration

MERCHANT = new_id("mer")


class Target:
    def __init__(self, url: str, issuer: TestIssuer) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {issuer.token(MERCHANT, 'invoices:read invoices:write', install_id=None)}"}
        self.order_ids: list[str] = []
        self.invoice_ids: list[str] = []


@pytest.fixture(scope="module")
def invoicing_target(server_url: str, kafka_bootstrap: str) -> Iterator[Target]:
    database = f"test_invoicing_fuzz_{secrets.token_hex(6)}"
    ledger = f"test_sbx_{secrets.token_hex(6)}"
    settings = InvoicingSettings(database_url=server_url, database_name=database, kafka_bootstrap_servers=kafka_bootstrap,
                                 installs_url=ISSUER, role="api", secret=fuzz_secret(), sandbox_database=ledger,
                                 **UNLIMITED)
    issuer = TestIssuer()
    try:
        with ThreadedServer(create_app(settings, jwks_transport=issuer.transport)) as server:
            target = Target(server.url, issuer)
            for _ in range(3):  # orders invoicing knows, so creates can succeed and paths reach past the 404
                record = order_record(merchant_id=MERCHANT)
                server.run(_project(server.app.state.runtime.pool, record))
                target.order_ids.append(record.id)
            due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
            with httpx.Client(base_url=server.url, headers=target.headers) as client:
                for order_id in target.order_ids:
                    body = {"order_id": order_id, "due_date": due, "amount": {"amount": 100, "currency": "EUR"}}
                    target.invoice_ids.append(client.post("/v1/invoices", json=body).raise_for_status().json()["id"])
            yield target
    finally:
        print(f"\nfuzz: {CASES['invoicing']} generated cases against invoicing")
        asyncio.run(_drop(server_url, database, ledger))


async def _project(pool: asyncpg.Pool, record) -> None:
    async with pool.acquire() as conn:
        await repository.project_order(conn, record)


async def _drop(server_url: str, *databases: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        for database in databases:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


# The committed document (tests/http keeps it equal to the app's): operations are known at
# collection time, so each becomes a test of its own.
schema = load_schema("invoicing")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_the_invoicing_api_fail(case, invoicing_target: Target):
    if "invoice_id" in (case.path_parameters or {}) and random.random() < 0.5:
        case.path_parameters["invoice_id"] = random.choice(invoicing_target.invoice_ids)
    if isinstance(case.body, dict) and "order_id" in case.body and random.random() < 0.5:
        case.body["order_id"] = random.choice(invoicing_target.order_ids)
    headers = invoicing_target.headers
    if random.random() < 0.1:
        headers = {}  # the generated Authorization header, if any: no token, or a bad one
    response = case.call(base_url=invoicing_target.url, headers=headers)
    check_answer("invoicing", case, response)
