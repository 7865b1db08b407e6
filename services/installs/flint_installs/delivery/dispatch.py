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

Each attempt is a CLIENT span continuing the trace of the routing that queued it (the
delivery's stored ``traceparent``), whose ``traceparent`` the receiver gets as a header, and
is counted in ``flint_webhook_attempts_total`` / ``flint_webhook_attempt_duration_seconds`` by
outcome: ``delivered`` or the :class:`FailureReason` (``http_status``, ``timeout``…).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry.trace import Span, SpanKind, StatusCode

from flint_chassis import tracing
from flint_chassis.metrics import observe_webhook_attempt
from flint_installs.delivery import repository
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.model import ClaimedDelivery, Sealer
from flint_installs.delivery.outcome import AttemptResult
from flint_installs.delivery.sender import WebhookMessage, WebhookSender
from flint_installs.delivery.signing_secrets import SigningSecrets

log = logging.getLogger("flint.installs.webhooks")

DELIVERED = "delivered"  # the outcome label of a 2xx answer; failures are labelled by their reason

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
        result = await self._attempt(delivery, secrets)
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

    async def _attempt(self, delivery: ClaimedDelivery, secrets: tuple[str, ...]) -> AttemptResult:
        """Send once, in a span of the delivery's trace; count the attempt by outcome."""
        attributes = {"messaging.message.id": delivery.event_id, "flint.event_type": delivery.event_type,
                      "flint.delivery_id": delivery.id, "flint.webhook_endpoint_id": delivery.endpoint_id}
        with tracing.span(f"webhook {delivery.event_type}", kind=SpanKind.CLIENT, parent=delivery.traceparent,
                          attributes=attributes) as span:
            result = await self._sender.send(WebhookMessage(
                url=delivery.url, body=delivery.body, event_id=delivery.event_id, event_type=delivery.event_type,
                delivery_id=delivery.id, secrets=secrets, traceparent=tracing.current_traceparent(),
            ))
            outcome = DELIVERED if result.delivered else str(result.reason)
            if span is not None:
                _describe_on(span, outcome, result)
            if not result.delivered:  # inside the span: the line carries the trace id
                log.info("webhook %s (%s) to %s not delivered, attempt %d: %s %s", delivery.event_id,
                         delivery.event_type, delivery.endpoint_id, delivery.attempts + 1, outcome, result.detail)
        observe_webhook_attempt(outcome, result.latency_ms / 1000)
        return result

    async def _disable(self, conn: asyncpg.Connection, endpoint_id: str, failing_since: datetime,
                       now: datetime) -> None:
        reason = f"every attempt failed since {failing_since.isoformat()}"
        if await repository.disable_endpoint(conn, endpoint_id, now=now, reason=reason) and self._on_disabled:
            await self._on_disabled(conn, endpoint_id, now)


def _describe_on(span: Span, outcome: str, result: AttemptResult) -> None:
    span.set_attribute("flint.webhook_outcome", outcome)
    if result.status_code is not None:
        span.set_attribute("http.response.status_code", result.status_code)
    if not result.delivered:
        span.set_status(StatusCode.ERROR, outcome)
