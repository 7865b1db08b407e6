"""When the payment processor refuses, fails or loses its answer, the order's money stays
right: what the orders service shows as refunded is exactly what the processor moved, never
twice, never lost. The sandbox's faults are injected into the ledger every run reads."""

from __future__ import annotations

from typing import Any

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_orders.domain import Order
from flint_payments import capture_payment
from flint_refunds import handlers
from tests.orders.service import eur
from tests.refunds.service import RefundsService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def two_mugs(order: dict[str, Any]) -> dict[str, Any]:
    line = order["line_items"][0]
    return {"order_id": order["id"], "reason": "returned_items", "lines": [{"line_item_id": line["id"], "quantity": 2}]}


async def test_a_refund_the_processor_refuses_fails_and_gives_the_order_its_room_back(refunds: RefundsService):
    # given a paid order whose charge the merchant already refunded in the processor's own dashboard
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    await refunds.sandbox.refund(charge_reference=payment["processor_reference"], idempotency_key=new_id("evt"))

    # when an app refunds the mugs through Flint
    response = await refunds.refund(refunds.app_token(merchant), two_mugs(order))

    # then the processor refused it: the refund failed and holds nothing
    assert response.status_code == 201, response.text
    refund = response.json()
    assert (refund["status"], refund["failure_reason"]) == ("failed", "refund_exceeds_charge")
    assert refund["payments"][0]["status"] == "failed"
    # and the order shows it failed, with everything refundable again
    shown = await refunds.order_shows(merchant, order["id"], lambda o: o["refunds"] and o["refunds"][0]["status"] == "failed")
    assert (shown["amounts"]["refunded"], shown["amounts"]["refund_pending"]) == (eur(0), eur(0))
    context = (await refunds.orders.call("GET", f"/v1/orders/{order['id']}/refund-context",
                                         refunds.orders.merchant_token(merchant))).json()
    assert context["max_refundable"] == eur(2880)


async def test_a_part_failing_after_another_moved_money_leaves_the_order_refunded_by_what_moved(
    refunds: RefundsService,
):
    # given an order paid in two payments, the second of which was refunded outside Flint
    merchant = new_id("mer")
    order, [first, second] = await refunds.paid_order(merchant, payments=[1000, 1880])
    await refunds.sandbox.refund(charge_reference=second["processor_reference"], idempotency_key=new_id("evt"))

    # when the two mugs (23.80) are refunded: 10.00 from the first payment, 13.80 from the second
    response = await refunds.refund(refunds.app_token(merchant), two_mugs(order))

    # then the first part moved money and the second was refused: the refund succeeded for 10.00
    refund = response.json()
    assert (refund["status"], refund["amount"], refund["amount_requested"]) == ("succeeded", eur(1000), eur(2380))
    assert [(p["payment_id"], p["amount"], p["status"], p["failure_reason"]) for p in refund["payments"]] == [
        (first["payment_id"], eur(1000), "succeeded", None),
        (second["payment_id"], eur(1380), "failed", "refund_exceeds_charge")]
    # and its items were given back: the mugs are refundable again, the 10.00 counts against the order
    assert (refund["lines"], refund["shipping"]) == ([], eur(0))
    # and what the processor moved through Flint is what the order shows refunded
    [moved] = await refunds.ledger_refunds(first["processor_reference"])
    assert moved["amount"] == eur(1000)
    shown = await refunds.order_shows(merchant, order["id"], lambda o: o["amounts"]["refunded"] == eur(1000)
                                      and not o["amounts"]["refund_pending"]["amount"])
    assert shown["payment_status"] == "partially_refunded"
    context = (await refunds.orders.call("GET", f"/v1/orders/{order['id']}/refund-context",
                                         refunds.orders.merchant_token(merchant))).json()
    assert context["lines"][0]["refundable_quantity"] == 2
    assert context["max_refundable"] == eur(1880)


@pytest.mark.parametrize("failure", ["unavailable", "processing_error"])
async def test_a_processor_error_leaves_the_refund_pending_and_a_worker_retries_it(
    refunds: RefundsService, failure: str
):
    # given a paid order, and a processor that fails the next two refund calls
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    await refunds.nothing_pending()
    await refunds.sandbox.faults.inject("refund", failure, times=2)

    # when an app refunds the mugs
    response = await refunds.refund(refunds.app_token(merchant), two_mugs(order))

    # then the answer says pending (the outcome is not known), and a worker finishes it
    assert (response.status_code, response.json()["status"]) == (201, "pending")
    settled = await refunds.settled(merchant, response.json()["id"])
    assert settled["status"] == "succeeded"
    [moved] = await refunds.ledger_refunds(payment["processor_reference"])
    assert (moved["amount"], moved["reference"]) == (eur(2380), settled["processor_reference"])
    assert await refunds.sandbox.faults.waiting() == []
    await refunds.order_shows(merchant, order["id"], lambda o: o["amounts"]["refunded"] == eur(2380))


async def test_a_lost_answer_is_resumed_without_a_second_refund(refunds: RefundsService):
    # given a paid order, and a processor whose next refund moves the money but loses the answer
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    await refunds.nothing_pending()
    await refunds.sandbox.faults.inject("refund", "response_lost")

    # when an app refunds the mugs
    response = await refunds.refund(refunds.app_token(merchant), two_mugs(order))

    # then the money moved but the service cannot know yet: pending
    assert response.json()["status"] == "pending"
    # and a worker asks again with the same key and gets the first refund back: exactly one
    settled = await refunds.settled(merchant, response.json()["id"])
    [moved] = await refunds.ledger_refunds(payment["processor_reference"])
    assert settled["status"] == "succeeded"
    assert (moved["amount"], moved["reference"]) == (eur(2380), settled["processor_reference"])
    shown = await refunds.order_shows(merchant, order["id"], lambda o: o["amounts"]["refunded"] == eur(2380))
    assert shown["amounts"]["refund_pending"] == eur(0)


async def test_a_refund_waits_for_the_charge_reference_of_a_payment_it_has_only_heard_of(refunds: RefundsService):
    # given an order whose capture the refunds service knows only from an order event: the
    # payment.captured carrying the charge's reference on the processor is late
    merchant = new_id("mer")
    order = await refunds.orders.create_order(merchant)
    await refunds.known(order["id"], 0)
    payment = await capture_payment(refunds.sandbox, order_id=order["id"], amount=Money(amount=2880, currency="EUR"))
    paid = Order.from_dict(order)
    paid.record_payment_captured(payment.payment_id, payment.amount, at=payment.captured_at)
    async with refunds.pool.acquire() as conn, conn.transaction():
        await handlers.record_order(conn, OrderRecord.model_validate(paid.to_dict()))

    # when it is refunded, then it waits, pending, instead of failing
    response = await refunds.refund(refunds.app_token(merchant), two_mugs(order))
    assert response.json()["status"] == "pending"
    assert await refunds.ledger_refunds(payment.processor_reference) == []
    # and once payment.captured arrives, it runs
    await refunds.orders.publish(PAYMENTS_EVENTS, build_envelope(
        types.PAYMENT_CAPTURED, payment, source="flint.checkout", merchant_id=merchant))
    settled = await refunds.settled(merchant, response.json()["id"])
    assert (settled["status"], settled["amount"]) == ("succeeded", eur(2380))
    [moved] = await refunds.ledger_refunds(payment.processor_reference)
    assert moved["reference"] == settled["processor_reference"]
