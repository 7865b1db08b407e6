"""Running a pending refund on the payment processor, part by part, then settling it.

One run: load the refund and the processor references of its payments; call the processor
for each part in order, each with its own idempotency key (``<refund id>:<payment id>``),
until one does not succeed; then settle the refund in one transaction with its event. No
database transaction is open during a processor call.

- A permanent refusal of a part is an outcome: the refund settles (``domain.parts`` says how).
- A retryable error, a timeout, or a payment whose ``payment.captured`` (with the charge's
  reference) has not arrived yet is no outcome: the refund stays ``pending`` and a worker runs
  it again after a backoff, with the same keys. Parts that already succeeded answer the same
  again without moving money, so a crash anywhere (between the processor's answer and the
  settlement included) costs a retry, never a second refund.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import asyncpg

from flint_contracts.money import Money
from flint_payments import PaymentProcessor, PermanentPaymentError, RetryablePaymentError
from flint_refunds import handlers, repository
from flint_refunds.config import RefundsSettings
from flint_refunds.domain import Outcome, Part, Refund, part_key

log = logging.getLogger("flint.refunds.runner")


class NoOutcome(Exception):
    """The processor's answer for a part is not known yet; run the refund again later."""


class RefundRunner:
    """Runs refunds on ``processor``; ``pool`` gives the service's database pool."""

    def __init__(self, settings: RefundsSettings, pool: Callable[[], asyncpg.Pool],
                 processor: Callable[[], PaymentProcessor]) -> None:
        self._settings = settings
        self._pool = pool
        self._processor = processor

    async def run(self, refund_id: str, *, attempts: int = 0) -> Refund | None:
        """Runs the refund if it is still pending; returns it as it stands afterwards."""
        pool = self._pool()
        refund = await repository.refund(pool, refund_id)
        if refund is None or refund.status != "pending":
            return refund
        references = await repository.charge_references(pool, [part.payment_id for part in refund.parts])
        try:
            outcomes = await self._run_parts(refund, references)
        except NoOutcome as unknown:
            delay = self._backoff(attempts)
            log.warning("refund %s stays pending, next run in %.1fs: %s", refund_id, delay, unknown)
            await repository.retry_later(pool, refund_id, delay, str(unknown))
            return refund
        async with pool.acquire() as conn, conn.transaction():
            return await handlers.settle_refund(conn, refund_id, outcomes)

    async def _run_parts(self, refund: Refund, references: dict[str, str | None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for part in refund.parts:
            outcome = await self._run_part(refund, part, references.get(part.payment_id))
            outcomes.append(outcome)
            if outcome.status == "failed":
                break  # later parts are never started: at most one part is ever in doubt
        return outcomes

    async def _run_part(self, refund: Refund, part: Part, charge: str | None) -> Outcome:
        if charge is None:
            raise NoOutcome(f"waiting for payment.captured of {part.payment_id} (its charge reference)")
        processor = self._processor()
        try:
            done = await asyncio.wait_for(processor.refund(
                charge_reference=charge, idempotency_key=part_key(refund.id, part.payment_id),
                amount=Money(amount=part.amount, currency=refund.currency),
                metadata={"refund_id": refund.id, "order_id": refund.order_id, "payment_id": part.payment_id},
            ), timeout=self._settings.processor_timeout)
        except PermanentPaymentError as refused:
            log.info("refund %s: the processor refused the part of %s: %s", refund.id, part.payment_id, refused.code)
            return Outcome.failed(refused.code)
        except (RetryablePaymentError, TimeoutError) as error:
            code = getattr(error, "code", "processor_timeout")
            raise NoOutcome(f"{code} on the part of {part.payment_id}") from error
        return Outcome.succeeded(done.reference)

    def _backoff(self, attempts: int) -> float:
        """Doubling per attempt up to the maximum, with jitter so retries of many refunds spread out."""
        settings = self._settings
        ceiling = min(settings.refund_retry_backoff * 2 ** min(attempts, 30), settings.refund_retry_backoff_max)
        return random.uniform(ceiling / 2, ceiling)
