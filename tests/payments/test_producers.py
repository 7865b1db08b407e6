"""Internal producers capture through the sandbox, so the refunds service can refund their payments."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest
from aiokafka import AIOKafkaConsumer

from flint_contracts import event_types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import PaymentCaptured, PaymentFailed, build_envelope
from flint_contracts.ids import new_id
from flint_payments import InvalidRequest, ProcessorUnavailable, capture_payment, event_type_of
from tests.payments.cards import DECLINED, card, eur
from tests.support.polling import eventually


async def test_a_captured_payment_announces_a_reference_the_sandbox_can_refund(sandbox):
    order_id, merchant_id = new_id("ord"), new_id("mer")

    data = await capture_payment(sandbox, order_id=order_id, amount=eur(2880))
    envelope = build_envelope(event_type_of(data), data, source="flint.checkout", merchant_id=merchant_id)
    refund = await sandbox.refund(charge_reference=data.processor_reference, idempotency_key=new_id("rfd"))

    assert isinstance(data, PaymentCaptured) and envelope.type == event_types.PAYMENT_CAPTURED
    assert (envelope.subject, data.processor, data.amount) == (order_id, "sandbox", eur(2880))
    assert refund.amount == eur(2880)
    assert (await sandbox.get_charge(data.processor_reference)).metadata["order_id"] == order_id


async def test_a_declined_card_announces_a_failed_payment(sandbox, ledger):
    data = await capture_payment(sandbox, order_id=new_id("ord"), amount=eur(2880), card=card(DECLINED))

    assert isinstance(data, PaymentFailed) and event_type_of(data) == event_types.PAYMENT_FAILED
    assert (data.failure_code, data.failure_message) == ("card_declined", "Your card was declined.")
    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 0


async def test_capturing_one_payment_id_again_charges_once(sandbox, ledger):
    order_id, payment_id = new_id("ord"), new_id("pay")
    await sandbox.faults.inject("capture", "response_lost")

    with pytest.raises(ProcessorUnavailable):  # the producer crashed, or never heard back
        await capture_payment(sandbox, order_id=order_id, amount=eur(2880), payment_id=payment_id)
    again = await capture_payment(sandbox, order_id=order_id, amount=eur(2880), payment_id=payment_id)

    assert again.payment_id == payment_id
    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 1


async def test_a_malformed_order_id_is_refused_before_any_money_moves(sandbox, ledger):
    with pytest.raises(InvalidRequest, match="order_id"):
        await capture_payment(sandbox, order_id="1001", amount=eur(2880))
    assert await ledger.fetchval("SELECT count(*) FROM sandbox_charges") == 0


# --- python -m flint_payments, in processes of its own ----------------------------------------------


async def cli(settings, *args: str, kafka_bootstrap: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "FLINT_SANDBOX_DATABASE": settings.database}
    if kafka_bootstrap is not None:  # the tests' broker, which the environment may not name
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flint_payments", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_the_cli_captures_in_one_process_and_another_refunds(sandbox_settings, sandbox):
    order_id = new_id("ord")

    status, out, _ = await cli(sandbox_settings, "capture", "--order", order_id, "--amount", "28.80", "--currency", "EUR")
    captured = PaymentCaptured.model_validate_json(out)
    refund = await sandbox.refund(charge_reference=captured.processor_reference, amount=eur(880),
                                  idempotency_key=new_id("rfd"))
    status_after, shown, _ = await cli(sandbox_settings, "charge", captured.processor_reference)

    assert (status, captured.order_id, captured.amount) == (0, order_id, eur(2880))
    assert refund.amount == eur(880)
    assert (status_after, json.loads(shown)["amount_refunded"]["amount"]) == (0, 880)


async def test_the_cli_says_what_went_wrong_in_one_line(sandbox_settings, sandbox):
    declined, out, _ = await cli(sandbox_settings, "capture", "--order", new_id("ord"), "--amount", "5",
                                 "--currency", "EUR", "--card", "4000000000000002")
    unknown, _, err = await cli(sandbox_settings, "charge", "sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S")
    usage, _, usage_err = await cli(sandbox_settings, "capture", "--order", new_id("ord"), "--amount", "5.001",
                                    "--currency", "EUR")

    assert (declined, json.loads(out)["failure_code"]) == (2, "card_declined")
    assert (unknown, err.strip()) == (1, "flint-payments: unknown_charge: No sandbox charge has the reference "
                                         "'sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S'.")
    assert usage == 2 and "more decimals than EUR allows" in usage_err


async def test_a_fault_injected_from_the_cli_hits_this_process(sandbox_settings, sandbox):
    status, _, _ = await cli(sandbox_settings, "fault", "capture", "unavailable", "--times", "1")

    with pytest.raises(ProcessorUnavailable):
        await sandbox.capture(amount=eur(100), card=card(), idempotency_key="pay-1")
    assert status == 0 and await sandbox.faults.waiting() == []


async def test_the_cli_publishes_the_payment_keyed_by_its_order(sandbox_settings, sandbox, kafka_bootstrap, new_topics):
    [topic] = await new_topics("payments")
    order_id, merchant_id = new_id("ord"), new_id("mer")

    status, out, err = await cli(sandbox_settings, "capture", "--order", order_id, "--amount", "12.50",
                                 "--currency", "EUR", "--merchant", merchant_id, "--publish", "--topic", topic,
                                 kafka_bootstrap=kafka_bootstrap)
    printed = EventEnvelope.model_validate_json(out)

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        async def published():
            batches = await consumer.getmany(timeout_ms=200)
            return next((record for records in batches.values() for record in records), None)

        record = await eventually(published, timeout=20, message="the published payment")
    finally:
        await consumer.stop()
    assert status == 0, err
    assert (record.key.decode(), EventEnvelope.from_bytes(record.value)) == (order_id, printed)
    assert dict(record.headers)["flint-event-type"] == b"payment.captured"
    assert (await sandbox.get_charge(printed.data["processor_reference"])).amount == eur(1250)
