"""Thin Kafka adapters: contract model in, handler call, nothing else.

The refunds service keeps its projection of each order's money from two topics, each its
own consumer group (``<prefix>refunds.<name>``) run by the chassis:

- ``flint.orders.events.v1``: every ``order.*`` event carries the whole order record, so any
  of them tells what was sold, whether the order was canceled and which payments it captured;
- ``flint.payments.events.v1``: ``payment.captured`` brings the processor's reference of the
  charge, which a refund needs, usually before the orders service has even applied it.

Both are idempotent: an order event older than what is held changes nothing, a capture is
stored once per payment id. Refunds themselves are this service's own table, never a
projection. Install events keep the chassis' install state (token revocation).
"""

from __future__ import annotations

import asyncpg

from flint_chassis import install_state
from flint_chassis.consumer import Event, PermanentError, Subscription
from flint_contracts import event_types as types
from flint_contracts.events import OrderEventData, PaymentCaptured
from flint_contracts.timeline import ORDER_EVENT_TYPES
from flint_contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from flint_refunds import handlers
from flint_refunds.domain import ConflictingPayment, KnownCapture


def rules(error: Exception) -> Exception | None:
    """What the domain's refusals mean for a consumed message."""
    if isinstance(error, ConflictingPayment):
        return PermanentError(str(error), code=error.code)
    return None


orders = Subscription("orders", ORDERS_EVENTS)


@orders.on(*ORDER_EVENT_TYPES)
async def order_changed(conn: asyncpg.Connection, event: Event[OrderEventData]) -> None:
    await handlers.record_order(conn, event.data.order)


payments = Subscription("payments", PAYMENTS_EVENTS)


@payments.on(types.PAYMENT_CAPTURED)
async def payment_captured(conn: asyncpg.Connection, event: Event[PaymentCaptured]) -> None:
    captured = event.data
    await handlers.record_capture(conn, KnownCapture(
        payment_id=captured.payment_id, order_id=captured.order_id, merchant_id=event.merchant_id,
        amount=captured.amount.amount, currency=captured.amount.currency, captured_at=captured.captured_at,
        processor=captured.processor, processor_reference=captured.processor_reference,
    ))


SUBSCRIPTIONS = (orders, payments, install_state.subscription)
"""Everything the refunds worker consumes."""
