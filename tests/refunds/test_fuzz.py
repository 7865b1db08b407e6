"""Property-based fuzz of every operation of the refunds API (schemathesis, valid and invalid
inputs from the OpenAPI document) against the running service on the real PostgreSQL and
Kafka, with a sandbox ledger of its own: no answer is a server error, and every error is a
Problem. Half the cases name a real, paid order, so refunds and quotes reach the rules and
the processor instead of stopping at a 404."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator

import pytest

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_orders.domain import SYSTEM, Customer, NewLine, Order
from flint_payments import SandboxProcessor, capture_payment
from flint_refunds import handlers
from flint_refunds.app import create_app
from flint_refunds.domain import KnownCapture
from tests.refunds.service import PORTS, drop_database, refunds_settings, sandbox_factory, sandbox_settings
from tests.support.fuzzing import CASES, FUZZ_SETTINGS, UNLIMITED, check_answer, load_schema
from tests.support.threaded_server import ThreadedServer
from tests.support.tokens import TestIssuer

pytestmark = pytest.mark.integration

MERCHANT = new_id("mer")
# Hypothesis seeds the `random` module for every example (so every example would choose
# alike): the test's own choices use a generator of their own.
choose = random.Random(secrets.randbits(64))


class Target:
    def __init__(self, url: str, issuer: TestIssuer, order_ids: list[str]) -> None:
        self.url, self.order_ids = url, order_ids
        scopes = "refunds:read refunds:write"
        self.merchant = {"Authorization": f"Bearer {issuer.token(MERCHANT, scopes, install_id=None)}"}
        self.app = {"Authorization": f"Bearer {issuer.token(MERCHANT, scopes)}"}


@pytest.fixture(scope="module")
def refunds_target(server_url: str, kafka_bootstrap: str) -> Iterator[Target]:
    run = secrets.token_hex(6)
    database, ledger = f"test_refunds_fuzz_{run}", f"test_refunds_fuzz_sbx_{run}"
    settings = refunds_settings(server_url, kafka_bootstrap, database, role="api", **UNLIMITED)
    issuer, ledger_settings = TestIssuer(), sandbox_settings(server_url, ledger)
    app = create_app(settings, processor=sandbox_factory(ledger_settings), jwks_transport=issuer.transport)
    try:
        with ThreadedServer(app, PORTS) as server:
            order_ids = [server.run(_paid_order(app, ledger_settings)) for _ in range(3)]
            yield Target(server.url, issuer, order_ids)
    finally:
        print(f"\nfuzz: {CASES['refunds']} generated cases against refunds")
        asyncio.run(drop_database(server_url, database))
        asyncio.run(drop_database(server_url, ledger))


async def _paid_order(app, ledger_settings) -> str:
    """An order of 3 mugs paid in full, in the service's projection (as its consumers would
    record it), captured on the service's sandbox so refunds of it really run."""
    eur = lambda amount: Money(amount=amount, currency="EUR")  # noqa: E731
    order = Order.create(merchant_id=MERCHANT, number=1001, customer=Customer(email="ada@example.com"),
                         currency="EUR", lines=[NewLine(title="Mug", quantity=3, unit_price=eur(1000), tax=eur(300))],
                         shipping=eur(500), actor=SYSTEM)
    async with await SandboxProcessor.open(ledger_settings) as sandbox:
        payment = await capture_payment(sandbox, order_id=order.id, amount=eur(3800))
    order.record_payment_captured(payment.payment_id, payment.amount, at=payment.captured_at)
    async with app.state.runtime.pool.acquire() as conn, conn.transaction():
        await handlers.record_order(conn, OrderRecord.model_validate(order.to_dict()))
        await handlers.record_capture(conn, KnownCapture(
            payment_id=payment.payment_id, order_id=order.id, merchant_id=MERCHANT, amount=3800, currency="EUR",
            captured_at=payment.captured_at, processor="sandbox", processor_reference=payment.processor_reference))
    return order.id


schema = load_schema("refunds")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_the_refunds_api_fail(case, refunds_target: Target):
    if isinstance(case.body, dict) and "order_id" in case.body and choose.random() < 0.5:
        case.body["order_id"] = choose.choice(refunds_target.order_ids)
    if isinstance(case.query, dict) and "order_id" in case.query and choose.random() < 0.5:
        case.query["order_id"] = choose.choice(refunds_target.order_ids)
    headers = choose.choice([refunds_target.app, refunds_target.merchant])
    if choose.random() < 0.1:
        headers = {}  # the generated Authorization header, if any: no token, or a bad one
    response = case.call(base_url=refunds_target.url, headers=headers)
    check_answer("refunds", case, response)
