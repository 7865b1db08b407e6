"""Thin Kafka adapters: contract model in, handler call, nothing else.

Each subscription is its own consumer group (``<prefix>orders.<name>``), run by the chassis
(``flint_chassis.consumer``): envelope and data are validated against the contracts before
a handler runs, the inbox drops duplicates, and ``rules`` says what the domain's refusals
mean for a message. When a dead-lettered event names an order of its merchant,
``note_dead_letter`` records ``event.rejected`` on the order's timeline.
"""

from __future__ import annotations

import asyncpg

from flint_chassis import install_state
from flint_chassis.consumer import Event, PermanentError, RetryLater, Subscription
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import InvoiceData, PaymentCaptured, PaymentFailed, RefundData
from flint_contracts.ids import is_id
from flint_contracts.topics import INVOICES_EVENTS, ORDERS_COMMANDS, PAYMENTS_EVENTS, REFUNDS_EVENTS
from flint_orders import commands, handlers
from flint_orders.domain import Actor, DomainError, RefundDetails, RefundLine, RefundPart, RefundRefused
from flint_orders.handlers import Cause, OrderNotFound


def rules(error: Exception) -> Exception | None:
    """What the domain's refusals mean for a consumed message."""
    if isinstance(error, OrderNotFound):
        # Topics have no order between them: a payment may arrive just before the command
        # that creates its order. Parked, it is tried again for a while before it is a dead letter.
        return RetryLater(f"unknown order {error} for this merchant", code="unknown_order")
    if isinstance(error, RefundRefused):
        # The refunds service checked this refund against the money it had seen; if orders
        # has not applied that payment yet (another topic, another consumer), it waits for it.
        return RetryLater(f"{error}; waiting for the payment it refunds", code=error.code)
    if isinstance(error, DomainError):
        return PermanentError(str(error), code=error.code)
    return None


async def note_dead_letter(conn: asyncpg.Connection, event: EventEnvelope, reason: str) -> None:
    """The order explains itself: its timeline says which event was rejected and why."""
    order_id = event.subject if is_id(event.subject, "ord") else event.data.get("order_id")
    if is_id(order_id, "ord"):
        await handlers.note_rejected_event(conn, order_id, event, reason)


# --- commands ----------------------------------------------------------------------------------------

orders_commands = Subscription("commands", ORDERS_COMMANDS, on_dead_letter=note_dead_letter)
orders_commands.on(types.ORDER_CREATE)(commands.create)
orders_commands.on(types.ORDER_CANCEL)(commands.cancel)
orders_commands.on(types.ORDER_ADD_NOTE)(commands.add_note)

# --- payments ----------------------------------------------------------------------------------------

payments = Subscription("payments", PAYMENTS_EVENTS, on_dead_letter=note_dead_letter)


@payments.on(types.PAYMENT_CAPTURED)
async def payment_captured(conn: asyncpg.Connection, event: Event[PaymentCaptured]) -> None:
    captured = event.data
    await handlers.record_payment_captured(
        conn, event.merchant_id, captured.order_id, captured.payment_id, captured.amount, method=captured.method,
        invoice_id=captured.invoice_id, at=captured.captured_at, cause=Cause.of(event.envelope),
    )


@payments.on(types.PAYMENT_FAILED)
async def payment_failed(conn: asyncpg.Connection, event: Event[PaymentFailed]) -> None:
    failed = event.data
    await handlers.record_payment_failed(
        conn, event.merchant_id, failed.order_id, failed.payment_id, failed.amount, method=failed.method,
        failure_code=failed.failure_code, failure_message=failed.failure_message, invoice_id=failed.invoice_id,
        at=failed.failed_at, cause=Cause.of(event.envelope),
    )


# --- refunds -----------------------------------------------------------------------------------------

refunds = Subscription("refunds", REFUNDS_EVENTS, on_dead_letter=note_dead_letter)
_REFUND_STATUS = {types.REFUND_CREATED: "pending", types.REFUND_SUCCEEDED: "succeeded", types.REFUND_FAILED: "failed"}


@refunds.on(*_REFUND_STATUS)
async def refund_changed(conn: asyncpg.Connection, event: Event[RefundData]) -> None:
    status, refund = _REFUND_STATUS[event.type], event.data
    details = RefundDetails(
        refund_id=refund.refund_id,
        amount=refund.amount,
        lines=tuple(RefundLine(line_item_id=line.line_item_id, quantity=line.quantity, amount=line.amount)
                    for line in refund.lines),
        shipping=refund.shipping,
        payment_id=refund.payment_id,
        reason=refund.reason,
        note=refund.note,
        actor=Actor(type=refund.actor.type, id=refund.actor.id),
        payments=tuple(RefundPart(payment_id=part.payment_id, amount=part.amount, status=part.status,
                                  processor_reference=part.processor_reference, failure_reason=part.failure_reason)
                       for part in refund.payments),
        amount_requested=refund.amount_requested,
    )
    await handlers.record_refund(
        conn, event.merchant_id, refund.order_id, details, status,
        at=refund.created_at if status == "pending" else event.time,
        processor_reference=refund.processor_reference, failure_reason=refund.failure_reason,
        cause=Cause.of(event.envelope),
    )


# --- invoices ----------------------------------------------------------------------------------------

invoices = Subscription("invoices", INVOICES_EVENTS, on_dead_letter=note_dead_letter)


@invoices.on(*(t.name for t in types.for_topic(INVOICES_EVENTS)))
async def invoice_changed(conn: asyncpg.Connection, event: Event[InvoiceData]) -> None:
    invoice = event.data
    await handlers.record_invoice(
        conn, event.merchant_id, invoice.order_id, invoice.invoice_id, invoice.status, invoice.amount_due,
        event_type=event.type, at=event.time, overdue=invoice.overdue, hosted_url=invoice.hosted_url,
        reminder_number=invoice.reminder_number, cause=Cause.of(event.envelope),
    )


SUBSCRIPTIONS = (orders_commands, payments, refunds, invoices, install_state.subscription)
"""Everything the orders worker consumes."""
