"""The webhook sender as a worker process of the installs service runs it: one sender (its
connection pools), the dispatcher that records every attempt and announces disabled
endpoints, and the loop that keeps deliveries going."""

from __future__ import annotations

import asyncpg

from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.disabled import announce_disabled
from flint_installs.delivery.dispatch import Dispatcher
from flint_installs.delivery.model import Sealer
from flint_installs.delivery.resolver import Resolver
from flint_installs.delivery.repository import WAKE_CHANNEL
from flint_installs.delivery.sender import WebhookSender
from flint_installs.delivery.worker import SenderWorker


class WebhookDelivery:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer, settings: DeliverySettings, *,
                 resolver: Resolver | None = None) -> None:
        self.sender = WebhookSender(settings, resolver=resolver)
        self.dispatcher = Dispatcher(pool, self.sender, sealer, settings, on_disabled=announce_disabled)
        self.worker = SenderWorker(pool, self.dispatcher, wake_channel=WAKE_CHANNEL,
                                   concurrency=settings.concurrency, poll_interval=settings.poll_interval,
                                   stop_timeout=settings.total_timeout)

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        await self.sender.aclose()
