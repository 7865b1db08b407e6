"""Thin Kafka adapters: contract model in, handler call, nothing else.

Each topic has its own consumer group (``<prefix>orders.<name>``), run by the chassis'
``EventConsumer``: inbox, offsets after commit, dead letters. A message that can never
apply raises ``PermanentError`` and is dead-lettered at once with the reason; when it names
an order that exists, ``note_dead_letter`` records ``event.rejected`` on its timeline.
Duplicates and stale events change nothing (the inbox, then the domain, drop them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from flint_chassis.auth import InstallProjection
from flint_chassis.consumer import EventConsumer
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events.invoices import InvoiceData
from flint_contracts.events.payments import PaymentCaptured, PaymentFailed
from flint_contracts.events.refunds import RefundData
from flint_contracts.ids import is_id
from flint_contracts.topics import INSTALLS_EVENTS, INVOICES_EVENTS, ORDERS_COMMANDS, PAYMENTS_EVENTS, REFUNDS_EVENTS
from flint_orders import commands, handlers
from flint_orders.consuming import applying, parse, unknown_type
from flint_orders.config import OrdersSettings
from flint_orders.domain import Actor, RefundDetails, RefundLine
from flint_orders.handlers import Cause

Handler = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]

_REFUND_STATUS = {types.REFUND_CREATED: "pending", types.REFUND_SUCCEEDED: "succeeded", types.REFUND_FAILED: "failed"}


def consumers(settings: OrdersSettings, pool: asyncpg.Pool | None) -> list[EventConsumer]:
    """Every consumer the orders worker runs (``pool`` may be None to list them)."""
    options: dict[str, Any] = {"max_attempts": settings.consumer_max_attempts,
                               "retry_backoff": settings.consumer_retry_backoff}

    def consumer(name: str, topic: str, handler: Handler, *, notes: bool = True) -> EventConsumer:
        return EventConsumer(service=settings.service_name, name=settings.group(name), topics=(topic,), pool=pool,
                             handler=handler, on_dead_letter=note_dead_letter if notes else None, **options)

    return [
        consumer("commands", ORDERS_COMMANDS, commands.on_command),
        consumer("payments", PAYMENTS_EVENTS, on_payment_event),
        consumer("refunds", REFUNDS_EVENTS, on_refund_event),
        consumer("invoices", INVOICES_EVENTS, on_invoice_event),
        consumer("install-state", INSTALLS_EVENTS, InstallProjection.apply, notes=False),
    ]


# --- payments ----------------------------------------------------------------------------------------


async def on_payment_event(conn: asyncpg.Connection, event: EventEnvelope) -> None:
    if event.type == types.PAYMENT_CAPTURED:
        captured = parse(PaymentCaptured, event)
        await applying(handlers.record_payment_captured(
            conn, event.merchant_id, captured.order_id, captured.payment_id, captured.amount,
            method=captured.method, invoice_id=captured.invoice_id, at=captured.captured_at, cause=Cause.of(event),
        ))
    elif event.type == types.PAYMENT_FAILED:
        failed = parse(PaymentFailed, event)
        await applying(handlers.record_payment_failed(
            conn, event.merchant_id, failed.order_id, failed.payment_id, failed.amount, method=failed.method,
            failure_code=failed.failure_code, failure_message=failed.failure_message, invoice_id=failed.invoice_id,
            at=failed.failed_at, cause=Cause.of(event),
        ))
    else:
        unknown_type(event)


# --- refunds -----------------------------------------------------------------------------------------


async def on_refund_event(conn: asyncpg.Connection, event: EventEnvelope) -> None:
    status = _REFUND_STATUS.get(event.type) or unknown_type(event)
    refund = parse(RefundData, event)
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
    )
    at = refund.created_at if status == "pending" else event.time
    await applying(handlers.record_refund(
        conn, event.merchant_id, refund.order_id, details, status, at=at,
        processor_reference=refund.processor_reference, failure_reason=refund.failure_reason, cause=Cause.of(event),
    ))


# --- invoices ----------------------------------------------------------------------------------------


async def on_invoice_event(conn: asyncpg.Connection, event: EventEnvelope) -> None:
    if not event.type.startswith("invoice.") or event.type not in types.REGISTRY:
        unknown_type(event)
    invoice = parse(InvoiceData, event)
    await applying(handlers.record_invoice(
        conn, event.merchant_id, invoice.order_id, invoice.invoice_id, invoice.status, invoice.amount_due,
        event_type=event.type, at=event.time, overdue=invoice.overdue, hosted_url=invoice.hosted_url,
        reminder_number=invoice.reminder_number, cause=Cause.of(event),
    ))


# --- shared ------------------------------------------------------------------------------------------


async def note_dead_letter(conn: asyncpg.Connection, event: EventEnvelope, reason: str) -> None:
    """The order explains itself: its timeline says which event was rejected and why."""
    order_id = event.subject if is_id(event.subject, "ord") else event.data.get("order_id")
    if is_id(order_id, "ord"):
        await handlers.note_rejected_event(conn, order_id, event, reason)
