"""Failures and latency injected into the sandbox, as the refunds and invoicing tests will use them."""

from __future__ import annotations

import asyncio
import time

import pytest

from flint_payments import InvalidRequest, ProcessingError, ProcessorUnavailable, SandboxProcessor
from tests.payments.cards import card, eur


async def test_the_next_n_calls_fail_unavailable_and_move_no_money(sandbox, ledger):
    await sandbox.faults.inject("capture", "unavailable", times=2)

    for _ in range(2):
        with pytest.raises(ProcessorUnavailable) as failed:
            await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")
        assert failed.value.retryable
    charge = await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")

    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 1
    assert charge.amount == eur(100)
    assert await sandbox.faults.waiting() == []


async def test_an_injected_processing_error_fails_only_the_operation_it_names(sandbox):
    await sandbox.faults.inject("refund", "processing_error")
    charge = await sandbox.capture(amount=eur(500), card=card(), idempotency_key="pay-1")  # captures still work

    with pytest.raises(ProcessingError):
        await sandbox.refund(charge_reference=charge.reference, idempotency_key="rfd-1")
    refund = await sandbox.refund(charge_reference=charge.reference, idempotency_key="rfd-1")

    assert refund.amount == eur(500)


async def test_a_refund_whose_answer_is_lost_moved_the_money_once_and_the_retry_tells(sandbox):
    # given a charge, and a fault that loses the refund's answer after the money moved
    charge = await sandbox.capture(amount=eur(5000), card=card(), idempotency_key="pay-1")
    await sandbox.faults.inject("refund", "response_lost")

    # when the caller, as after a crash, never gets the answer and retries with the same key
    with pytest.raises(ProcessorUnavailable):
        await sandbox.refund(charge_reference=charge.reference, amount=eur(2000), idempotency_key="rfd-1")
    moved = await sandbox.get_charge(charge.reference)
    retried = await sandbox.refund(charge_reference=charge.reference, amount=eur(2000), idempotency_key="rfd-1")

    # then the money moved with the first call, and the retry returns that refund: once, not twice
    assert moved.amount_refunded == eur(2000)
    assert [r.reference for r in moved.refunds] == [retried.reference]
    assert (await sandbox.get_charge(charge.reference)).amount_refunded == eur(2000)


async def test_a_capture_whose_answer_is_lost_is_found_by_its_retry(sandbox, ledger):
    await sandbox.faults.inject("capture", "response_lost")

    with pytest.raises(ProcessorUnavailable):
        await sandbox.capture(amount=eur(2880), card=card(), idempotency_key="pay-1")
    charge = await sandbox.capture(amount=eur(2880), card=card(), idempotency_key="pay-1")

    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 1
    assert charge.amount == eur(2880)


async def test_a_fault_injected_by_one_process_hits_the_call_another_makes(sandbox_settings, sandbox):
    charge = await sandbox.capture(amount=eur(500), card=card(), idempotency_key="pay-1")
    async with await SandboxProcessor.open(sandbox_settings) as test_harness:
        await test_harness.faults.inject("get_charge", "unavailable")

    with pytest.raises(ProcessorUnavailable):
        await sandbox.get_charge(charge.reference)
    assert (await sandbox.get_charge(charge.reference)).amount == eur(500)


async def test_concurrent_calls_use_up_exactly_the_faults_injected(sandbox):
    await sandbox.faults.inject("capture", "unavailable", times=3)

    outcomes = await asyncio.gather(
        *[sandbox.capture(amount=eur(100), card=card(), idempotency_key=f"pay-{i}") for i in range(8)],
        return_exceptions=True,
    )

    assert sum(isinstance(o, ProcessorUnavailable) for o in outcomes) == 3
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 5


async def test_faults_can_be_listed_and_cleared(sandbox):
    await sandbox.faults.inject("refund", "response_lost", times=2)
    assert await sandbox.faults.waiting() == [("refund", "response_lost", 2)]

    await sandbox.faults.clear()
    with pytest.raises(InvalidRequest):
        await sandbox.faults.inject("refund", "meteor_strike")

    assert await sandbox.faults.waiting() == []


async def test_a_configured_latency_delays_every_call(sandbox_settings):
    # A lower bound only: the latency must be there; how fast the sandbox is otherwise is no test's business.
    settings = sandbox_settings.model_copy(update={"latency_ms": 300})
    async with await SandboxProcessor.open(settings) as slow:
        started = time.monotonic()
        charge = await slow.capture(amount=eur(100), card=card(), idempotency_key="pay-1")
        await slow.get_charge(charge.reference)
        elapsed = time.monotonic() - started

    assert elapsed >= 0.6
