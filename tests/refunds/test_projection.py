"""The refunds service's projection of each order's money: built from order events and
payment.captured, idempotent, never moved back by a stale event, and a payment id that
contradicts what was seen is a dead letter, not a silent overwrite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import PaymentCaptured, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_orders.domain import SYSTEM, Customer, NewLine, Order
from flint_refunds import handlers, repository
from tests.refunds.service import RefundsService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


async def test_an_older_order_event_never_undoes_a_newer_one(refunds: RefundsService):
    # given an order the projection knows as canceled (version 2)
    order = Order.create(merchant_id=new_id("mer"), number=1001, customer=Customer(email="ada@example.com"),
                         currency="EUR", lines=[NewLine(title="Mug", quantity=1, unit_price=eur(1000))], actor=SYSTEM)
    created = OrderRecord.model_validate(order.to_dict())
    order.cancel("changed their mind", actor=SYSTEM)
    canceled = OrderRecord.model_validate(order.to_dict())
    async with refunds.pool.acquire() as conn, conn.transaction():
        await handlers.record_order(conn, canceled)

    # when order.created (version 1) arrives late, and canceled again (a redelivery)
    async with refunds.pool.acquire() as conn, conn.transaction():
        await handlers.record_order(conn, created)
        await handlers.record_order(conn, canceled)

    # then the projection still says canceled, at version 2
    async with refunds.pool.acquire() as conn:
        state = await repository.order_state(conn, order.id, lock=False)
    assert (state.order.canceled, state.order.version) == (True, 2)


async def test_a_payment_id_seen_again_with_another_amount_is_dead_lettered(refunds: RefundsService):
    # given a paid order, known to refunds
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)

    # when a payment.captured reuses its payment id for another amount
    forged = PaymentCaptured(payment_id=payment["payment_id"], order_id=order["id"], amount=eur(99_999),
                             method="card", processor="sandbox", processor_reference="sbx_ch_forged",
                             captured_at=datetime.now(UTC))
    envelope = build_envelope(types.PAYMENT_CAPTURED, forged, source="flint.checkout", merchant_id=merchant)
    await refunds.orders.publish(PAYMENTS_EVENTS, envelope)

    # then refunds dead-letters it with the reason, and the capture keeps what was first seen
    prefix = refunds.settings.consumer_group_prefix
    dead = await eventually(lambda: [h for h in refunds.tap.headers("flint.payments.events.v1.dlq.refunds", envelope.id)
                                     if h["flint-dlq-consumer"].startswith(prefix)], message="the dead letter")
    assert dead[0]["flint-dlq-code"] == "conflicting_event"
    amount, reference = await refunds.pool.fetchrow(
        "SELECT amount, processor_reference FROM captures WHERE payment_id = $1", payment["payment_id"])
    assert (amount, reference) == (2880, payment["processor_reference"])
