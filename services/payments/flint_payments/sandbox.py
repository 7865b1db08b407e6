"""The sandbox processor: deterministic test cards, a real ledger, idempotent calls, faults.

Its ledger is a PostgreSQL database of its own (``flint_sandbox`` by default), so charges
captured by one process (invoicing) can be refunded by another (refunds). Each call runs in
one transaction that first claims its idempotency key; refunds also lock their charge's row.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Self, TypeVar

import asyncpg

from flint_chassis import db
from flint_chassis.migrations import migrate
from flint_contracts.money import Money
from flint_payments import ledger
from flint_payments.cards import check_card, raise_for_outcome
from flint_payments.checks import check_positive, checked_call, fingerprint_of
from flint_payments.config import SandboxSettings
from flint_payments.errors import (
    REPLAYABLE,
    CurrencyMismatch,
    IdempotencyKeyReused,
    ProcessorUnavailable,
    RefundExceedsCharge,
    UnknownCharge,
    replayed,
)
from flint_payments.faults import Faults, Operation
from flint_payments.processor import CardDetails, Charge, ChargeRefund

MIGRATIONS = Path(__file__).parent / "migrations"

Result = TypeVar("Result")
Run = Callable[[asyncpg.Connection], Awaitable[Result]]
Replay = Callable[[asyncpg.Connection, asyncpg.Record], Awaitable[Result]]


class SandboxProcessor:
    """A ``PaymentProcessor`` whose cards are the test cards of ``flint_payments.cards``."""

    name = ledger.PROCESSOR_NAME

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        latency_ms: int = 0,
        clock: Callable[[], datetime] | None = None,
        owns_pool: bool = False,
    ) -> None:
        self._pool = pool
        self._latency = latency_ms / 1000
        self._clock = clock or (lambda: datetime.now(UTC))  # expiry checks read it
        self._owns_pool = owns_pool
        self.faults = Faults(pool)

    @classmethod
    async def open(
        cls, settings: SandboxSettings | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> SandboxProcessor:
        """Create the ledger database when missing, migrate it, and open a pool on it."""
        settings = settings or SandboxSettings()
        pool = await db.open_service_database(settings.database_url, settings.database, min_size=1,
                                              max_size=settings.pool_max)
        async with pool.acquire() as conn:
            await migrate(conn, [("sandbox", MIGRATIONS)])
        return cls(pool, latency_ms=settings.latency_ms, clock=clock, owns_pool=True)

    async def close(self) -> None:
        if self._owns_pool:
            await self._pool.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the interface -------------------------------------------------------------------------

    async def capture(
        self, *, amount: Money, card: CardDetails, idempotency_key: str, description: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Charge:
        metadata = checked_call(idempotency_key, metadata, description)
        check_positive(amount)
        checked = check_card(card, now=self._clock())
        fingerprint = fingerprint_of(amount=amount.model_dump(), card=[checked.number, card.exp_month, card.exp_year,
                                   card.cvc.get_secret_value()], description=description, metadata=metadata)

        async def run(conn: asyncpg.Connection) -> Charge:
            raise_for_outcome(checked)
            reference = ledger.new_reference("ch")
            await ledger.insert_charge(conn, reference, amount, checked.summary, description, metadata)
            await ledger.record_charge(conn, idempotency_key, reference)
            return await ledger.load_charge(conn, reference)

        async def replay(conn: asyncpg.Connection, outcome: asyncpg.Record) -> Charge:
            return await ledger.load_charge(conn, outcome["charge_reference"])

        return await self._once("capture", idempotency_key, fingerprint, run, replay)

    async def refund(
        self, *, charge_reference: str, idempotency_key: str, amount: Money | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ChargeRefund:
        metadata = checked_call(idempotency_key, metadata)
        if amount is not None:
            check_positive(amount)
        asked = None if amount is None else amount.model_dump()
        fingerprint = fingerprint_of(charge=charge_reference, amount=asked, metadata=metadata)

        async def run(conn: asyncpg.Connection) -> ChargeRefund:
            left = await _refundable(conn, charge_reference, amount)
            wanted = amount or left
            if wanted.amount == 0 or wanted > left:
                raise RefundExceedsCharge(
                    f"{wanted} is more than the {left} this charge has left to refund.", refundable=left
                )
            reference = ledger.new_reference("re")
            await ledger.insert_refund(conn, reference, charge_reference, wanted, metadata)
            await ledger.record_refund(conn, idempotency_key, reference)
            return await ledger.load_refund(conn, reference)

        async def replay(conn: asyncpg.Connection, outcome: asyncpg.Record) -> ChargeRefund:
            return await ledger.load_refund(conn, outcome["refund_reference"])

        return await self._once("refund", idempotency_key, fingerprint, run, replay)

    async def get_charge(self, charge_reference: str) -> Charge:
        response_lost = await self.faults.take("get_charge") == "response_lost"
        await self._wait()
        charge = None
        if ledger.is_reference(charge_reference, "ch"):
            async with self._pool.acquire() as conn:
                charge = await ledger.load_charge(conn, charge_reference)
        if response_lost:
            raise ProcessorUnavailable("The sandbox's answer was lost (injected fault).")
        if charge is None:
            raise _unknown(charge_reference)
        return charge

    # --- one call, once ------------------------------------------------------------------------

    async def _once(
        self, operation: Operation, key: str, fingerprint: str, run: Run[Result], replay: Replay[Result]
    ) -> Result:
        """Run ``run`` for the first call with ``key``; replay its outcome for every later one.

        A permanent outcome (a result or a decline) commits with the key; a retryable failure
        rolls the claim back, so the key can be tried again.
        """
        response_lost = await self.faults.take(operation) == "response_lost"
        declined = None
        async with self._pool.acquire() as conn, conn.transaction():
            if await ledger.claim_key(conn, key, operation, fingerprint):
                await self._wait()
                try:
                    result = await run(conn)
                except tuple(REPLAYABLE.values()) as error:
                    await ledger.record_error(conn, key, error)
                    declined = error
            else:
                result = await _replay(conn, key, operation, fingerprint, replay)
        if response_lost:  # after the commit: the money moved, the answer did not arrive
            raise ProcessorUnavailable("The sandbox's answer was lost after the call completed (injected fault).")
        if declined is not None:
            raise declined
        return result

    async def _wait(self) -> None:
        if self._latency:
            await asyncio.sleep(self._latency)


async def _replay(
    conn: asyncpg.Connection, key: str, operation: str, fingerprint: str, replay: Replay[Result]
) -> Result:
    outcome = await ledger.stored_outcome(conn, key)
    if outcome["operation"] != operation or outcome["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused(
            f"The idempotency key was first used for another {outcome['operation']} call; use a new key."
        )
    if outcome["error_code"] is not None:
        raise replayed(outcome["error_code"], outcome["error_message"], json.loads(outcome["error_detail"]))
    return await replay(conn, outcome)


async def _refundable(conn: asyncpg.Connection, charge_reference: str, amount: Money | None) -> Money:
    """What the charge has left, under its row lock; refuses an unknown charge or another currency."""
    row = await ledger.lock_charge(conn, charge_reference) if ledger.is_reference(charge_reference, "ch") else None
    if row is None:
        raise _unknown(charge_reference)
    if amount is not None and amount.currency != row["currency"]:
        raise CurrencyMismatch(f"The refund is in {amount.currency}; the charge was in {row['currency']}.")
    return Money(amount=row["amount"] - row["amount_refunded"], currency=row["currency"])


def _unknown(reference: str) -> UnknownCharge:
    return UnknownCharge(f"No sandbox charge has the reference {reference[:100]!r}.")
