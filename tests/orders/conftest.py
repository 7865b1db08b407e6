"""One orders service while this folder runs (fresh database, real Kafka), shared by the
integration tests of this folder; they isolate themselves with fresh merchant ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.orders.service import OrdersService, running_orders_service
from tests.support.http_server import serving


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def orders(server_url: str, kafka_bootstrap: str) -> AsyncIterator[OrdersService]:
    async with running_orders_service(server_url, kafka_bootstrap) as service:
        yield service


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def orders_url(orders: OrdersService) -> AsyncIterator[str]:
    """The same orders service behind a real uvicorn server (httptools), for keep-alive tests."""
    async with serving(orders.app) as url:
        yield url
