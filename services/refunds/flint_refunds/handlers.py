"""One async function per use case of the refunds service.

Each runs in the caller's transaction (the API opens one per request, the consumer one per
message, the runner one per settlement). Deciding or settling a refund first locks the
order's projection row, so one order's refunds are decided one at a time against everything
its earlier refunds hold; the refund and its event (outbox) commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from flint_chassis import outbox
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import Actor, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.literals import RefundReason
from flint_contracts.order import OrderRecord
from flint_contracts.refund_rules import RefundQuote, RefundRequest, quote_refund, refund_context
from flint_contracts.topics import REFUNDS_EVENTS
from flint_refunds import repository
from flint_refunds.domain import (
    ConflictingPayment,
    KnownCapture,
    OrderNotFound,
    OrderProjection,
    OrderState,
    Outcome,
    Refund,
    RefundRefused,
)

SOURCE = "flint.refunds"
_EVENT_TYPE = {"pending": types.REFUND_CREATED, "succeeded": types.REFUND_SUCCEEDED, "failed": types.REFUND_FAILED}


@dataclass(frozen=True)
class NewRefund:
    """A refund as a caller asks for it."""

    order_id: str
    request: RefundRequest
    reason: RefundReason
    note: str | None
    actor: Actor


# --- quotes and refunds --------------------------------------------------------------------------


async def quote(conn: asyncpg.Connection, merchant_id: str, order_id: str, request: RefundRequest) -> RefundQuote:
    """What ``request`` would refund now, and every reason it would be refused. Changes nothing."""
    state = await _order_state(conn, merchant_id, order_id, lock=False)
    return quote_refund(state.money(), request)


async def create_refund(
    conn: asyncpg.Connection, merchant_id: str, new: NewRefund, *, due_in: float, correlation_id: str | None
) -> Refund:
    """Stores a pending refund of what the rules accept, with ``refund.created``; raises
    RefundRefused (nothing stored) otherwise. Refunds of one order wait for each other on the
    order's row, so pending ones always count: concurrent refunds never take more than there is."""
    state = await _order_state(conn, merchant_id, new.order_id, lock=True)
    accepted = quote_refund(state.money(), new.request)
    if accepted.refusals:
        raise RefundRefused(accepted.refusals)
    refund = Refund.open(refund_id=new_id("rfd"), merchant_id=merchant_id, order_id=new.order_id, quote=accepted,
                         payment_id=new.request.payment_id, reason=new.reason, note=new.note, actor=new.actor,
                         at=datetime.now(UTC))
    await repository.insert_refund(conn, refund, due_in=due_in)
    await _publish(conn, refund, state.with_refund(refund), correlation_id)
    return refund


async def settle_refund(
    conn: asyncpg.Connection, refund_id: str, outcomes: Sequence[Outcome], *, correlation_id: str | None = None
) -> Refund:
    """Records the processor's answers for a pending refund, with ``refund.succeeded`` or
    ``refund.failed``. A refund settled meanwhile (by another runner) is returned as it is."""
    found = await repository.refund(conn, refund_id)
    if found is None:
        raise LookupError(f"no refund {refund_id}")
    state = await repository.order_state(conn, found.order_id, lock=True)  # the order first, as create does
    refund = await repository.refund(conn, refund_id, lock=True)
    if state is None or refund is None or refund.status != "pending":
        return refund or found
    refund.settle(outcomes, at=datetime.now(UTC))
    await repository.save_refund(conn, refund)
    await _publish(conn, refund, state.with_refund(refund), correlation_id)
    return refund


async def _order_state(conn: asyncpg.Connection, merchant_id: str, order_id: str, *, lock: bool) -> OrderState:
    state = await repository.order_state(conn, order_id, lock=lock)
    if state is None or state.order.merchant_id != merchant_id:  # another merchant's order is no order
        raise OrderNotFound(order_id)
    return state


async def _publish(conn: asyncpg.Connection, refund: Refund, after: OrderState, correlation_id: str | None) -> None:
    """The refund's event, with the order's refund context after it, into the outbox."""
    data = refund.event_data(refund_context(after.money()))
    event: EventEnvelope = build_envelope(_EVENT_TYPE[refund.status], data, source=SOURCE,
                                          merchant_id=refund.merchant_id, correlation_id=correlation_id)
    await outbox.enqueue(conn, REFUNDS_EVENTS, event)


# --- the projection --------------------------------------------------------------------------------


async def record_order(conn: asyncpg.Connection, order: OrderRecord) -> None:
    """An order event: what was sold (unless a newer event said otherwise) and its captures."""
    await repository.record_order(conn, OrderProjection.of(order))
    for capture in KnownCapture.of_order(order):
        await record_capture(conn, capture)


async def record_capture(conn: asyncpg.Connection, capture: KnownCapture) -> None:
    """A captured payment, once per payment id; raises ConflictingPayment when the id is
    known with another order, merchant or amount."""
    if not await repository.record_capture(conn, capture):
        raise ConflictingPayment(f"payment {capture.payment_id} is known with another order, merchant or amount")
