"""Fixtures for webhook delivery tests: a real local receiver and a sender with short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from flint_contracts.ids import new_id
from flint_contracts.webhooks import new_secret
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.sender import WebhookMessage, WebhookSender
from tests.installs.delivery.receiver import Receiver, start_receiver

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


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = await start_receiver()
    yield receiver
    await receiver.close()


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    async with WebhookSender(dev_settings()) as sender:
        yield sender
