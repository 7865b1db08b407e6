"""Calls that race: one key moves money once; refunds of one charge never exceed it.

The sandbox adds latency to every call here, so the racing calls overlap inside the
processor instead of one finishing before the next starts.
"""

from __future__ import annotations

import asyncio

import pytest

from flint_payments import Charge, RefundExceedsCharge, SandboxProcessor
from tests.payments.cards import card, eur


@pytest.fixture
async def slow_sandbox(sandbox_settings):
    settings = sandbox_settings.model_copy(update={"latency_ms": 50, "pool_max": 10})
    async with await SandboxProcessor.open(settings) as processor:
        yield processor


async def test_twenty_captures_racing_with_one_key_charge_the_card_once(slow_sandbox, ledger):
    captures = [slow_sandbox.capture(amount=eur(2880), card=card(), idempotency_key="pay-1") for _ in range(20)]

    charges: list[Charge] = await asyncio.gather(*captures)

    assert {charge.reference for charge in charges} == {charges[0].reference}
    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 1
    assert await ledger.fetchval("SELECT sum(amount) FROM sandbox_charges") == 2880


async def test_twenty_refunds_racing_with_one_key_refund_once(slow_sandbox, ledger):
    charge = await slow_sandbox.capture(amount=eur(5000), card=card(), idempotency_key="pay-1")

    refunds = await asyncio.gather(*[
        slow_sandbox.refund(charge_reference=charge.reference, amount=eur(1000), idempotency_key="rfd-1")
        for _ in range(20)
    ])

    assert len({refund.reference for refund in refunds}) == 1
    assert (await slow_sandbox.get_charge(charge.reference)).amount_refunded == eur(1000)
    assert await ledger.fetchval("SELECT count(*) FROM sandbox_refunds") == 1


async def test_refunds_racing_on_one_charge_never_exceed_it(slow_sandbox):
    # given a charge of 100.00 and 30 refunds of 7.00 at once, each with its own key
    charge = await slow_sandbox.capture(amount=eur(10000), card=card(), idempotency_key="pay-1")
    calls = [
        slow_sandbox.refund(charge_reference=charge.reference, amount=eur(700), idempotency_key=f"rfd-{i}")
        for i in range(30)
    ]

    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    # then exactly floor(100 / 7) = 14 go through, the rest are refused, 98.00 is refunded
    refused = [o for o in outcomes if isinstance(o, RefundExceedsCharge)]
    succeeded = [o for o in outcomes if not isinstance(o, BaseException)]
    assert (len(succeeded), len(refused)) == (14, 16)
    assert (await slow_sandbox.get_charge(charge.reference)).amount_refunded == eur(9800)


async def test_refunds_of_one_charge_from_two_processes_share_one_ledger(sandbox_settings, sandbox):
    # given two processors on the same ledger, as refunds and invoicing would each open one
    charge = await sandbox.capture(amount=eur(3000), card=card(), idempotency_key="pay-1")
    async with await SandboxProcessor.open(sandbox_settings) as other:
        calls = [
            processor.refund(charge_reference=charge.reference, amount=eur(1000), idempotency_key=f"rfd-{i}-{n}")
            for i in range(6) for n, processor in enumerate((sandbox, other))
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 3
    assert all(isinstance(o, RefundExceedsCharge) for o in outcomes if isinstance(o, BaseException))
    assert (await sandbox.get_charge(charge.reference)).amount_refunded == eur(3000)
