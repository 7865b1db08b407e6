"""What the invoicing integration tests share: the orders service, a sandbox ledger, an SMTP
sink and one invoicing service, all on the real Kafka and PostgreSQL. They live while this
folder's tests run (package scope), so no second orders service consumes the shared command
topic while tests/orders runs. Tests isolate themselves with fresh merchants and orders; tests
that move time start an invoicing service of their own (``fresh_invoicing``)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest_asyncio

from flint_payments import SandboxProcessor, SandboxSettings
from tests.invoicing.service import (
    InvoicingService,
    MailSink,
    drop_database,
    running_invoicing_service,
    running_mail_sink,
)
from tests.orders.service import OrdersService, running_orders_service


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def orders(server_url: str, kafka_bootstrap: str) -> AsyncIterator[OrdersService]:
    async with running_orders_service(server_url, kafka_bootstrap) as service:
        yield service


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def sandbox(server_url: str) -> AsyncIterator[SandboxProcessor]:
    settings = SandboxSettings(DATABASE_URL=server_url, FLINT_SANDBOX_DATABASE=f"test_sbx_{secrets.token_hex(6)}")
    try:
        async with await SandboxProcessor.open(settings) as processor:
            yield processor
    finally:
        await drop_database(server_url, settings.database)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def sink(tmp_path_factory) -> AsyncIterator[MailSink]:
    async with running_mail_sink(tmp_path_factory.mktemp("mail")) as running:
        yield running


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def invoicing(server_url: str, kafka_bootstrap: str, orders: OrdersService, sink: MailSink,
                    sandbox: SandboxProcessor) -> AsyncIterator[InvoicingService]:
    async with running_invoicing_service(server_url, kafka_bootstrap, orders, sink, sandbox) as service:
        yield service


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_invoicing(server_url: str, kafka_bootstrap: str, orders: OrdersService, sink: MailSink,
                          sandbox: SandboxProcessor) -> Callable[..., AbstractAsyncContextManager[InvoicingService]]:
    """An invoicing service of the test's own (its own database and clock), with settings changed."""
    return lambda **overrides: running_invoicing_service(server_url, kafka_bootstrap, orders, sink, sandbox,
                                                         **overrides)
