"""One async function per use case of the orders service.

Each runs inside the caller's transaction (the API opens one per request, the consumer one
per message): load the order with its row lock, call one domain method, then save the
order, append its new timeline entries and put an order event for each published entry in
the outbox, all on the same connection. Nothing is published before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from flint_chassis import outbox
from flint_chassis.cause import Cause
from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders import repository
from flint_orders.domain import (
    Actor,
    Customer,
    Discount,
    DomainError,
    NewLine,
    Order,
    RefundDetails,
    TimelineEntry,
)

SOURCE = "flint.orders"


@dataclass(frozen=True)
class OrderDraft:
    """A new order as the API or a create command asks for it."""

    merchant_id: str
    customer: Customer
    currency: str
    lines: Sequence[NewLine]
    shipping: Money | None = None
    discounts: Sequence[Discount] = ()
    expected_total: Money | None = None
    order_id: str | None = None
    at: datetime | None = None
    tags: Sequence[str] = ()
    note: str | None = None  # the buyer's, recorded as a note right after creation


@dataclass(frozen=True)
class Created:
    """A new order and its record as stored by its last write (``Order.to_dict()``), which
    the API answers with instead of building it a second time."""

    order: Order
    record: dict[str, Any]


class OrderNotFound(LookupError):
    """No such order (for this merchant)."""


# --- writes ------------------------------------------------------------------------------------


async def create_order(conn: asyncpg.Connection, draft: OrderDraft, *, actor: Actor, cause: Cause) -> Created | None:
    """Creates the order with the merchant's next number, then the buyer's note if any. With
    an ``order_id`` the merchant has already (a create command delivered again), nothing
    changes and None is returned; one that another merchant's order has is refused.

    Safe outside a transaction: an order without a note is written by one statement (number
    included), anything more in a transaction of its own."""
    if draft.order_id is not None:
        owner = await repository.owner_of(conn, draft.order_id)
        if owner == draft.merchant_id:
            return None
        if owner is not None:
            raise DomainError(f"order id {draft.order_id} is taken by another order", code="order_id_taken")
    if not draft.note:  # one write: the number is taken by the statement that writes the order
        order = _new_order(draft, repository.PENDING_NUMBER, actor)
        if (created := await _write_numbered(conn, order, cause)) is not None:
            return created
    # Several statements (or a placeholder in the order's data): in one transaction, the
    # number's lock held from here to its end.
    async with nullcontext() if conn.is_in_transaction() else conn.transaction():
        order = _new_order(draft, await repository.next_number(conn, draft.merchant_id), actor)
        record = await _write(conn, order, cause, new=True)
        if draft.note:  # its own entry and event, after order.created
            order.add_note(draft.note, actor=Actor(type="buyer"), at=order.created_at)
            record = await _write(conn, order, cause)
    return Created(order, record)


def _new_order(draft: OrderDraft, number: int, actor: Actor) -> Order:
    return Order.create(
        merchant_id=draft.merchant_id, number=number, customer=draft.customer, currency=draft.currency,
        lines=list(draft.lines), shipping=draft.shipping, discounts=list(draft.discounts),
        expected_total=draft.expected_total, actor=actor, at=draft.at, order_id=draft.order_id, tags=draft.tags,
    )


async def change_order(
    conn: asyncpg.Connection,
    order_id: str,
    change: Callable[[Order], Any],
    *,
    cause: Cause,
    merchant_id: str | None = None,
) -> Order:
    """Loads the order locked, applies ``change`` (one domain method) and saves what it did.
    With ``merchant_id``, another merchant's order is as absent as a missing one."""
    order = await repository.lock(conn, order_id)
    if order is None or (merchant_id is not None and order.merchant_id != merchant_id):
        raise OrderNotFound(order_id)
    change(order)
    if order.new_entries:  # a duplicate or stale change records nothing and writes nothing
        await _write(conn, order, cause)
    return order


async def add_note(conn, merchant_id: str, order_id: str, body: str, *, actor: Actor, cause: Cause) -> Order:
    return await change_order(conn, order_id, lambda o: o.add_note(body, actor=actor), merchant_id=merchant_id,
                              cause=cause)


async def add_tag(conn, merchant_id: str, order_id: str, tag: str, *, actor: Actor, cause: Cause) -> Order:
    return await change_order(conn, order_id, lambda o: o.add_tag(tag, actor=actor), merchant_id=merchant_id,
                              cause=cause)


async def remove_tag(conn, merchant_id: str, order_id: str, tag: str, *, actor: Actor, cause: Cause) -> Order:
    return await change_order(conn, order_id, lambda o: o.remove_tag(tag, actor=actor), merchant_id=merchant_id,
                              cause=cause)


async def set_metadata(
    conn, merchant_id: str, order_id: str, app_id: str, values: dict[str, Any], *, cause: Cause
) -> Order:
    return await change_order(conn, order_id, lambda o: o.set_metadata(app_id, values), merchant_id=merchant_id,
                              cause=cause)


async def cancel_order(
    conn, merchant_id: str, order_id: str, reason: str, *, actor: Actor, cause: Cause, at: datetime | None = None
) -> Order:
    return await change_order(conn, order_id, lambda o: o.cancel(reason, actor=actor, at=at),
                              merchant_id=merchant_id, cause=cause)


async def record_payment_captured(
    conn, merchant_id: str, order_id: str, payment_id: str, amount: Money, *, method: str,
    invoice_id: str | None, at: datetime | None, cause: Cause,
) -> Order:
    return await change_order(
        conn, order_id,
        lambda o: o.record_payment_captured(payment_id, amount, method=method, invoice_id=invoice_id, at=at),
        merchant_id=merchant_id, cause=cause,
    )


async def record_payment_failed(
    conn, merchant_id: str, order_id: str, payment_id: str, amount: Money, *, method: str,
    failure_code: str | None, failure_message: str | None, invoice_id: str | None, at: datetime | None, cause: Cause,
) -> Order:
    return await change_order(
        conn, order_id,
        lambda o: o.record_payment_failed(payment_id, amount, method=method, failure_code=failure_code,
                                          failure_message=failure_message, invoice_id=invoice_id, at=at),
        merchant_id=merchant_id, cause=cause,
    )


async def record_refund(
    conn, merchant_id: str, order_id: str, refund: RefundDetails, status: str, *, at: datetime | None,
    processor_reference: str | None = None, failure_reason: str | None = None, cause: Cause,
) -> Order:
    def apply(order: Order) -> None:
        if status == "pending":
            order.record_refund_created(refund, at=at)
        elif status == "succeeded":
            order.record_refund_succeeded(refund, at=at, processor_reference=processor_reference)
        else:
            order.record_refund_failed(refund, at=at, failure_reason=failure_reason)

    return await change_order(conn, order_id, apply, merchant_id=merchant_id, cause=cause)


async def record_invoice(
    conn, merchant_id: str, order_id: str, invoice_id: str, status: str, amount_due: Money, *, event_type: str,
    at: datetime | None, overdue: bool, hosted_url: str | None, reminder_number: int | None, cause: Cause,
) -> Order:
    return await change_order(
        conn, order_id,
        lambda o: o.record_invoice(invoice_id, status, amount_due, event_type=event_type, at=at, overdue=overdue,
                                   hosted_url=hosted_url, reminder_number=reminder_number),
        merchant_id=merchant_id, cause=cause,
    )


async def note_rejected_event(conn, order_id: str, event: EventEnvelope, reason: str) -> Order | None:
    """Records on the order's timeline that one of its events was dead-lettered, and why."""
    try:
        return await change_order(
            conn, order_id, lambda o: o.record_rejected_event(event.type, event.id, reason[:1000]),
            merchant_id=event.merchant_id, cause=Cause.of(event),
        )
    except OrderNotFound:
        return None


# --- recording --------------------------------------------------------------------------------------


async def _write(conn: asyncpg.Connection, order: Order, cause: Cause, *, new: bool = False) -> dict[str, Any]:
    """Writes one change in the caller's transaction: the order with its new timeline entries,
    and an order event in the outbox for each published entry, in sequence order. Use cases
    record one entry at a time, so the snapshot is the order as of that entry. Returns that
    snapshot (the record as stored)."""
    snapshot, timeline, staged = _rendered(order, cause)
    if new:
        if not await repository.add(conn, order, snapshot, timeline, staged):
            raise repository.ConcurrentChange(f"order {order.id} was created concurrently")
    else:
        await repository.save(conn, order, snapshot, timeline, staged)
    order.pull_new_entries()
    return snapshot


async def _write_numbered(conn: asyncpg.Connection, order: Order, cause: Cause) -> Created | None:
    """``_write`` for a new order built with ``repository.PENDING_NUMBER``: one statement
    takes the merchant's number and writes it in the placeholder's place. None, with nothing
    written, when ``repository.add_numbered`` cannot."""
    snapshot, timeline, staged = _rendered(order, cause)
    number = await repository.add_numbered(conn, order, snapshot, timeline, staged)
    if number is None:
        return None
    order.pull_new_entries()
    order.number = snapshot["number"] = number
    return Created(order, snapshot)


def _rendered(order: Order, cause: Cause) -> tuple[dict[str, Any], repository.NewEntries, outbox.Staged]:
    """The order's record (``to_dict()``), its new timeline entries and the order events of
    the published ones, as one write stores them (the events by the same statement)."""
    snapshot = order.to_dict()
    events = [order_event(order.merchant_id, snapshot, entry, cause)
              for entry in order.new_entries if entry.event_type is not None]
    timeline = repository.NewEntries(order.new_entries, {e.sequence: e.id for e in events}, cause.causation_id)
    return snapshot, timeline, outbox.Staged(ORDERS_EVENTS, events)


def order_event(merchant_id: str, snapshot: dict[str, Any], entry: TimelineEntry, cause: Cause) -> EventEnvelope:
    """The order event of one timeline entry (docs/orders.md, "Order events"): the order
    after the change, who changed it, what changed (``previous``) and the entry's own data.

    Built without validation: every field comes from the domain, whose records and events
    tests/orders/test_order_contract.py shows to fit ``OrderEventData`` and the envelope, and
    checking the whole order again on every write cost as much as building it."""
    return EventEnvelope.model_construct(
        id=new_id("evt"),
        type=entry.event_type,
        source=SOURCE,
        time=entry.at,
        merchant_id=merchant_id,
        subject=entry.order_id,
        sequence=entry.sequence,
        version=entry.version,
        correlation_id=cause.correlation_id,
        causation_id=cause.causation_id,
        data={
            "order": snapshot,
            "timeline_type": entry.type,
            "actor": entry.actor.to_dict(),
            "changes": entry.changes,
            **entry.data,
        },
        previous=entry.previous,
    )

