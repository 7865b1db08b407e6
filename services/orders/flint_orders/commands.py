"""Commands on ``flint.orders.commands.v1`` from internal services (checkout, storefronts):
create an order, cancel it, add a note. The producer picks the order id (the envelope's
subject), so a create delivered twice creates one order."""

from __future__ import annotations

import asyncpg

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events.commands import AddNote, CancelOrder, CreateOrder
from flint_orders import handlers
from flint_orders.domain import Actor, Customer, Discount, NewLine
from flint_orders.handlers import Cause, OrderDraft
from flint_orders.consuming import applying, parse, unknown_type


async def on_command(conn: asyncpg.Connection, command: EventEnvelope) -> None:
    if command.type == types.ORDER_CREATE:
        await create(conn, command, parse(CreateOrder, command))
    elif command.type == types.ORDER_CANCEL:
        cancel = parse(CancelOrder, command)
        await applying(handlers.cancel_order(conn, command.merchant_id, command.subject, cancel.reason,
                                             actor=producer(command), cause=Cause.of(command), at=command.time))
    elif command.type == types.ORDER_ADD_NOTE:
        note = parse(AddNote, command)
        actor = Actor(type=note.actor.type, id=note.actor.id)
        await applying(handlers.add_note(conn, command.merchant_id, command.subject, note.body, actor=actor,
                                         cause=Cause.of(command)))
    else:
        unknown_type(command)


async def create(conn: asyncpg.Connection, command: EventEnvelope, order: CreateOrder) -> None:
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
    await applying(handlers.create_order(conn, draft, actor=producer(command), cause=Cause.of(command)))


def producer(command: EventEnvelope) -> Actor:
    """The internal service that sent the command, as a system actor (``flint.checkout``)."""
    return Actor(type="system", id=command.source)
