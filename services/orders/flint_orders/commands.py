"""Commands on ``flint.orders.commands.v1`` from internal services (checkout, storefronts):
create an order, cancel it, add a note. The producer picks the order id (the envelope's
subject), so a create delivered twice creates one order; a create naming another
merchant's order is refused (``order_id_taken``) and dead-lettered."""

from __future__ import annotations

import logging

import asyncpg

from flint_chassis.cause import Cause
from flint_chassis.consumer import Event
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import AddNote, CancelOrder, CreateOrder
from flint_orders import handlers
from flint_orders.domain import Actor, Customer, Discount, NewLine
from flint_orders.handlers import OrderDraft

log = logging.getLogger("flint.orders.commands")


async def create(conn: asyncpg.Connection, command: Event[CreateOrder]) -> None:
    order = command.data
    draft = OrderDraft(
        merchant_id=order.merchant_id,
        customer=Customer(email=order.customer.email, name=order.customer.name),
        currency=order.currency,
        lines=[NewLine(title=li.title, quantity=li.quantity, unit_price=li.unit_price, tax=li.tax, sku=li.sku)
               for li in order.line_items],
        shipping=order.shipping,
        discounts=[Discount(code=d.code, amount=d.amount) for d in order.discounts],
        expected_total=order.expected_total,
        order_id=command.subject,
        at=command.time,
        tags=order.tags,
        note=order.note,
    )
    created = await handlers.create_order(conn, draft, actor=producer(command.envelope),
                                          cause=Cause.of(command.envelope))
    if created is None:
        log.info("order.create %s: order %s exists already; nothing to do", command.id, command.subject)


async def cancel(conn: asyncpg.Connection, command: Event[CancelOrder]) -> None:
    await handlers.cancel_order(conn, command.merchant_id, command.subject, command.data.reason,
                                actor=producer(command.envelope), cause=Cause.of(command.envelope), at=command.time)


async def add_note(conn: asyncpg.Connection, command: Event[AddNote]) -> None:
    note = command.data
    await handlers.add_note(conn, command.merchant_id, command.subject, note.body,
                            actor=Actor(type=note.actor.type, id=note.actor.id), cause=Cause.of(command.envelope))


def producer(command: EventEnvelope) -> Actor:
    """The internal service that sent the command, as a system actor (``flint.checkout``)."""
    return Actor(type="system", id=command.source)
