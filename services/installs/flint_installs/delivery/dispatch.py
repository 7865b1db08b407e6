"""One round of webhook delivery: claim what is due, send it, record what happened.

A round claims due deliveries in a short transaction of its own (each the oldest pending one
of its order, see the repository), sends them concurrently with no database connection
held, then records each attempt in its own transaction: delivered, retried later with
backoff, or given up when the retry window has closed. An endpoint that has failed every
attempt for ``disable_after`` is disabled in that same transaction, and ``on_disabled`` runs
there too, so whatever it writes (the ``webhook_endpoint.disabled`` event, through the
outbox) commits with the change or not at all.

:class:`flint_installs.delivery.worker.SenderWorker` runs deliveries continuously in the
installs worker, with :meth:`Dispatcher.claim` and :meth:`Dispatcher.deliver`; a delivery
whose endpoint was disabled or deleted, or whose install was uninstalled, after it was
claimed is not sent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from flint_installs.delivery import repository
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.model import ClaimedDelivery, Sealer
from flint_installs.delivery.sender import WebhookMessage, WebhookSender
from flint_installs.delivery.signing_secrets import SigningSecrets

OnDisabled = Callable[[asyncpg.Connection, str, datetime], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Delivers due webhooks, one round per :meth:`deliver_due` call."""

    def __init__(self, pool: asyncpg.Pool, sender: WebhookSender, sealer: Sealer, settings: DeliverySettings, *,
                 on_disabled: OnDisabled | None = None, clock: Callable[[], datetime] = _utc_now,
                 rng: random.Random | None = None) -> None:
        self._pool = pool
        self._sender = sender
        self._secrets = SigningSecrets(pool, sealer, ttl=settings.secrets_cache_seconds)
        self._lease = timedelta(seconds=settings.claim_lease)
        self._policy = settings.retry_policy()
        self._on_disabled = on_disabled
        self._clock = clock
        self._rng = rng

    async def deliver_due(self, *, limit: int = 50) -> int:
        """Send up to ``limit`` due deliveries; returns how many were claimed."""
        claimed = await self.claim(limit)
        await asyncio.gather(*(self.deliver(delivery) for delivery in claimed))
        return len(claimed)

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        """Reserve up to ``limit`` due deliveries for this worker (committed before returning)."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await repository.claim_due(conn, now=self._clock(), lease=self._lease, limit=limit)

    async def deliver(self, delivery: ClaimedDelivery) -> None:
        """Send one claimed delivery and record the attempt."""
        secrets = await self._secrets.of(delivery.endpoint_id, now=self._clock())
        if not secrets:
            return  # disabled, deleted or uninstalled since the claim: never sent, never claimed again
        result = await self._sender.send(WebhookMessage(
            url=delivery.url, body=delivery.body, event_id=delivery.event_id, event_type=delivery.event_type,
            delivery_id=delivery.id, secrets=secrets,
        ))
        now = self._clock()
        if result.delivered:
            async with self._pool.acquire() as conn:  # one statement: no transaction needed
                await repository.record_attempt(conn, delivery, result, retry_at=None, now=now)
            return
        retry_at = self._policy.next_attempt_at(created_at=delivery.created_at, failed_attempts=delivery.attempts + 1,
                                                now=now, rng=self._rng)
        async with self._pool.acquire() as conn, conn.transaction():
            failing_since = await repository.record_attempt(conn, delivery, result, retry_at=retry_at, now=now)
            if self._policy.should_disable(failing_since=failing_since, now=now):
                await self._disable(conn, delivery.endpoint_id, failing_since, now)

    async def _disable(self, conn: asyncpg.Connection, endpoint_id: str, failing_since: datetime,
                       now: datetime) -> None:
        reason = f"every attempt failed since {failing_since.isoformat()}"
        if await repository.disable_endpoint(conn, endpoint_id, now=now, reason=reason) and self._on_disabled:
            await self._on_disabled(conn, endpoint_id, now)
