"""Fixtures for webhook delivery tests: a real local receiver and a sender with short timeouts."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from flint_contracts.ids import new_id
from flint_contracts.webhooks import new_secret
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.sender import WebhookMessage, WebhookSender
from tests.installs.delivery.receiver import Receiver, start_receiver
from tests.installs.delivery.store import create_tables, service_secret

# Short, so the timeout tests stay fast; the defaults (2 s / 10 s) are asserted on their own.
CONNECT_TIMEOUT = 0.5
TOTAL_TIMEOUT = 1.5


def dev_settings(**overrides) -> DeliverySettings:
    """The development setting on (local receivers are loopback), with short timeouts."""
    values = {"allow_loopback": True, "connect_timeout": CONNECT_TIMEOUT, "total_timeout": TOTAL_TIMEOUT,
              **overrides}
    return DeliverySettings(**values)


def message_to(url: str, *, secrets: tuple[str, ...] | None = None, body: bytes | None = None) -> WebhookMessage:
    event_id = new_id("evt")
    return WebhookMessage(
        url=url,
        body=body if body is not None else b'{"id":"%s","type":"order.paid"}' % event_id.encode(),
        event_id=event_id, event_type="order.paid", delivery_id=new_id("dlv"),
        secrets=secrets or (new_secret(),),
    )


@pytest.fixture(autouse=True)
def _no_delivery_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests state every setting they rely on; a developer's FLINT_WEBHOOKS_* must not leak in.
    for name in [n for n in os.environ if n.startswith("FLINT_WEBHOOKS_")]:
        monkeypatch.delenv(name)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = await start_receiver()
    yield receiver
    await receiver.close()


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    async with WebhookSender(dev_settings()) as sender:
        yield sender


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A fresh database with the chassis and installs tables, webhook delivery's included."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=6)
    async with pool.acquire() as conn:
        await create_tables(conn)
    yield pool
    await pool.close()


@pytest.fixture
def sealer():
    return service_secret()
