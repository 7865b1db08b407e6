"""One orders service and one refunds service while this folder runs (fresh databases, a sandbox
ledger of their own, real Kafka), shared by the integration tests of this folder; tests
isolate themselves with fresh merchant ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.orders.service import OrdersService, running_orders_service
from tests.refunds.service import RefundsService, running_refunds_service


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def refunds_orders(server_url: str, kafka_bootstrap: str) -> AsyncIterator[OrdersService]:
    async with running_orders_service(server_url, kafka_bootstrap) as service:
        yield service


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def refunds(server_url: str, kafka_bootstrap: str, refunds_orders: OrdersService) -> AsyncIterator[RefundsService]:
    async with running_refunds_service(server_url, kafka_bootstrap, refunds_orders) as service:
        yield service
