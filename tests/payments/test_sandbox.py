"""The sandbox processor on the real PostgreSQL: test cards, refunds, look-ups, bad calls."""

from __future__ import annotations

import asyncpg
import pytest

from flint_contracts.money import Money
from flint_payments import (
    CardDeclined,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidCard,
    InvalidRequest,
    PaymentProcessor,
    ProcessingError,
    RefundExceedsCharge,
    SandboxProcessor,
    UnknownCharge,
)
from tests.payments.cards import DECLINED, INSUFFICIENT_FUNDS, PROCESSING_ERROR, card, eur


async def charges_in(ledger) -> int:
    return await ledger.fetchval("SELECT count(*) FROM sandbox_charges")


# --- capturing with each test card ------------------------------------------------------------


async def test_the_succeeding_card_is_charged_and_can_be_looked_up(sandbox):
    charge = await sandbox.capture(amount=eur(2880), card=card(), idempotency_key="pay-1",
                                   description="Order #1001", metadata={"order_id": "ord_x"})

    found = await sandbox.get_charge(charge.reference)
    assert charge.reference.startswith("sbx_ch_") and len(charge.reference) == 33
    assert (found.amount, found.amount_refunded, found.refundable) == (eur(2880), eur(0), eur(2880))
    assert (found.card.brand, found.card.last4, found.metadata) == ("visa", "4242", {"order_id": "ord_x"})
    assert isinstance(sandbox, PaymentProcessor) and found.processor == "sandbox"


@pytest.mark.parametrize(
    ("number", "error", "code"),
    [(DECLINED, CardDeclined, "card_declined"), (INSUFFICIENT_FUNDS, InsufficientFunds, "insufficient_funds")],
)
async def test_a_declined_card_captures_nothing_and_says_why_to_the_buyer(sandbox, ledger, number, error, code):
    with pytest.raises(error) as declined:
        await sandbox.capture(amount=eur(2880), card=card(number), idempotency_key="pay-1")

    assert (declined.value.code, declined.value.retryable) == (code, False)
    assert declined.value.message in ("Your card was declined.", "Your card has insufficient funds.")
    assert await charges_in(ledger) == 0


async def test_a_decline_is_the_answer_for_its_key_from_then_on(sandbox, ledger):
    with pytest.raises(CardDeclined):
        await sandbox.capture(amount=eur(100), card=card(DECLINED), idempotency_key="pay-1")

    with pytest.raises(CardDeclined, match="declined"):
        await sandbox.capture(amount=eur(100), card=card(DECLINED), idempotency_key="pay-1")
    assert await charges_in(ledger) == 0


async def test_a_processing_error_is_retryable_and_keeps_nothing_not_even_the_key(sandbox, ledger):
    with pytest.raises(ProcessingError) as failed:
        await sandbox.capture(amount=eur(100), card=card(PROCESSING_ERROR), idempotency_key="pay-1")

    assert failed.value.retryable and failed.value.code == "processing_error"
    # the same key works for the retry with a card that goes through
    assert (await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")).amount == eur(100)
    assert await charges_in(ledger) == 1


async def test_a_real_looking_card_is_declined_by_the_sandbox(sandbox):
    with pytest.raises(CardDeclined, match="test card such as 4242"):
        await sandbox.capture(amount=eur(100), card=card("4111 1111 1111 1111"), idempotency_key="pay-1")


async def test_an_invalid_card_is_refused_before_anything_is_kept(sandbox, ledger):
    with pytest.raises(InvalidCard) as refused:
        await sandbox.capture(amount=eur(100), card=card(exp_year=2001), idempotency_key="pay-1")

    assert refused.value.code == "expired_card"
    assert (await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")).amount == eur(100)
    assert await charges_in(ledger) == 1


# --- refunds -----------------------------------------------------------------------------------


async def test_a_charge_is_refunded_in_parts_and_then_whatever_is_left(sandbox):
    charge = await sandbox.capture(amount=eur(5000), card=card(), idempotency_key="pay-1")

    part = await sandbox.refund(charge_reference=charge.reference, amount=eur(1200), idempotency_key="rfd-1")
    rest = await sandbox.refund(charge_reference=charge.reference, idempotency_key="rfd-2")

    found = await sandbox.get_charge(charge.reference)
    assert part.reference.startswith("sbx_re_") and (part.amount, rest.amount) == (eur(1200), eur(3800))
    assert (found.amount_refunded, found.refundable) == (eur(5000), eur(0))
    assert [r.reference for r in found.refunds] == [part.reference, rest.reference]


async def test_a_refund_beyond_what_is_left_is_refused_and_says_what_is_left(sandbox):
    charge = await sandbox.capture(amount=eur(5000), card=card(), idempotency_key="pay-1")
    await sandbox.refund(charge_reference=charge.reference, amount=eur(4000), idempotency_key="rfd-1")

    with pytest.raises(RefundExceedsCharge) as refused:
        await sandbox.refund(charge_reference=charge.reference, amount=eur(1001), idempotency_key="rfd-2")
    await sandbox.refund(charge_reference=charge.reference, idempotency_key="rfd-3")
    with pytest.raises(RefundExceedsCharge):
        await sandbox.refund(charge_reference=charge.reference, idempotency_key="rfd-4")  # nothing left at all

    assert refused.value.refundable == eur(1000) and not refused.value.retryable
    assert (await sandbox.get_charge(charge.reference)).amount_refunded == eur(5000)


async def test_a_refund_in_another_currency_is_refused(sandbox):
    charge = await sandbox.capture(amount=eur(5000), card=card(), idempotency_key="pay-1")

    with pytest.raises(CurrencyMismatch):
        await sandbox.refund(charge_reference=charge.reference, amount=Money(amount=100, currency="USD"),
                             idempotency_key="rfd-1")
    assert (await sandbox.get_charge(charge.reference)).amount_refunded == eur(0)


@pytest.mark.parametrize("reference", ["sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S", "ch_3Nabc", "sbx_ch_\x00", ""])
async def test_an_unknown_charge_is_neither_found_nor_refunded(sandbox, reference):
    with pytest.raises(UnknownCharge):
        await sandbox.get_charge(reference)
    with pytest.raises(UnknownCharge):
        await sandbox.refund(charge_reference=reference, amount=eur(100), idempotency_key="rfd-1")


# --- calls the sandbox refuses -------------------------------------------------------------------


async def test_a_key_used_again_with_other_arguments_is_refused(sandbox):
    charge = await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")

    with pytest.raises(IdempotencyKeyReused):
        await sandbox.capture(amount=eur(200), card=card(), idempotency_key="pay-1")
    with pytest.raises(IdempotencyKeyReused):
        await sandbox.refund(charge_reference=charge.reference, idempotency_key="pay-1")
    assert (await sandbox.get_charge(charge.reference)).amount_refunded == eur(0)


@pytest.mark.parametrize(
    "call",
    [
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 256},
        {"idempotency_key": "pay\x00-1"},
        {"amount": eur(0)},
        {"amount": eur(-5)},
        {"metadata": {"order_id": "ord\x00"}},
        {"metadata": {"": "x"}},
        {"description": "a" * 501},
    ],
)
async def test_a_malformed_call_is_refused_and_nothing_is_kept(sandbox, ledger, call):
    with pytest.raises(InvalidRequest):
        await sandbox.capture(**{"amount": eur(100), "card": card(), "idempotency_key": "pay-1", **call})
    assert await charges_in(ledger) == 0


async def test_the_ledger_database_is_created_and_migrated_on_first_open(sandbox_settings):
    async with await SandboxProcessor.open(sandbox_settings):
        pass
    async with await SandboxProcessor.open(sandbox_settings) as again:  # a second open changes nothing
        conn = await asyncpg.connect(sandbox_settings.ledger_url)
        try:
            applied = await conn.fetch("SELECT component, name FROM flint_schema_migrations")
        finally:
            await conn.close()
        with pytest.raises(UnknownCharge):
            await again.get_charge("sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S")
    assert [tuple(row) for row in applied] == [("sandbox", "0001_sandbox_ledger.sql")]
