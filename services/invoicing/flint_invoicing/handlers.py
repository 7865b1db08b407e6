"""One async function per use case of the invoicing service.

Each runs inside the caller's transaction (the API opens one per request, a consumer one per
message, follow-up one per invoice): load with a row lock, call one domain method, then store
the invoice, its new pay links, its events in the outbox and the mail it sends, all on the
same connection. Nothing is published or mailed before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import logging
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from flint_chassis import outbox
from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import MerchantData
from flint_contracts.events.actor import Actor
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_contracts.topics import INVOICES_EVENTS
from flint_invoicing import repository
from flint_invoicing.domain import (
    DEFAULT_REMINDER_POLICY,
    SYSTEM,
    Clock,
    DomainError,
    Invoice,
    InvoiceEvent,
    due_now,
    next_follow_up_at,
    pay_token_hash,
)
from flint_invoicing.links import LinkVault
from flint_invoicing.mail import reminder_tone

log = logging.getLogger("flint.invoicing.follow_up")


@dataclass(frozen=True)
class Tools:
    """What use cases need besides the connection: the time, where pay links point, and the
    vault that seals the links stored."""

    clock: Clock
    public_url: str
    vault: LinkVault


@dataclass(frozen=True)
class Cause:
    """Why a change happens, carried onto the events it emits."""

    correlation_id: str | None = None
    causation_id: str | None = None

    @classmethod
    def of(cls, event: EventEnvelope) -> Cause:
        return cls(correlation_id=event.correlation_id or event.id, causation_id=event.id)


@dataclass(frozen=True)
class InvoiceDraft:
    """A new invoice as the API asks for it."""

    order_id: str
    due_date: date
    amount: Money | None = None
    reminder_policy: Sequence[int] = DEFAULT_REMINDER_POLICY
    memo: str | None = None


@dataclass(frozen=True)
class Written:
    """An invoice after a change: the pay link the change handed out (if it did), its newest
    link as stored (sealed), and when follow-up looks at it next."""

    invoice: Invoice
    link: str | None
    newest_link: bytes | None
    follow_up_at: datetime | None


class InvoiceNotFound(LookupError):
    """No such invoice (for this merchant)."""


class UnknownOrder(DomainError):
    """The order is not one of the merchant's, or has not reached invoicing yet."""

    code = "unknown_order"


# Events that are a message to the buyer: each queues the email carrying its link.
_MAIL_OF = {types.INVOICE_SENT: "invoice", types.INVOICE_REMINDER_SENT: "reminder"}


# --- invoices over the API ----------------------------------------------------------------------


async def create_invoice(
    conn: asyncpg.Connection, merchant_id: str, draft: InvoiceDraft, *, actor: Actor, tools: Tools, cause: Cause
) -> Written:
    """An open invoice with the merchant's next number, for what the order owes that its other
    invoices do not ask for already (or ``draft.amount`` of it)."""
    order = await repository.lock_order(conn, merchant_id, draft.order_id)
    if order is None:
        raise UnknownOrder(f"no order {draft.order_id} has reached invoicing for this merchant (an order just "
                           "created arrives a moment later; retry)", field="order_id")
    others = await repository.invoices_of_order(conn, order.id)
    number = await repository.next_number(conn, merchant_id)
    invoice = Invoice.create(
        order.billable_now(others), number=number, due_date=draft.due_date, clock=tools.clock,
        public_url=tools.public_url, other_invoices=others, amount=draft.amount,
        reminder_policy=draft.reminder_policy, memo=draft.memo, actor=actor,
    )  # fmt: skip
    return await write(conn, invoice, tools, cause, new=True)


async def change_invoice(
    conn: asyncpg.Connection, merchant_id: str, invoice_id: str, change: Callable[[Invoice], Any], *,
    tools: Tools, cause: Cause,
) -> Written:
    """Loads the merchant's invoice locked, applies ``change`` (one domain method) and stores
    what it did. Another merchant's invoice is as absent as a missing one."""
    stored = await repository.lock_invoice(conn, invoice_id)
    if stored is None or stored.invoice.merchant_id != merchant_id:
        raise InvoiceNotFound(invoice_id)
    change(stored.invoice)
    return await write(conn, stored.invoice, tools, cause, stored_link=stored.latest_link)


def send(actor: Actor, tools: Tools) -> Callable[[Invoice], Any]:
    return lambda invoice: invoice.send(clock=tools.clock, public_url=tools.public_url, actor=actor)


def remind(actor: Actor, tools: Tools) -> Callable[[Invoice], Any]:
    return lambda invoice: invoice.remind(clock=tools.clock, public_url=tools.public_url, actor=actor)


def void(actor: Actor, tools: Tools) -> Callable[[Invoice], Any]:
    return lambda invoice: invoice.void(clock=tools.clock, actor=actor)


def mark_uncollectible(actor: Actor, tools: Tools) -> Callable[[Invoice], Any]:
    return lambda invoice: invoice.mark_uncollectible(clock=tools.clock, actor=actor)


# --- follow-up -----------------------------------------------------------------------------------


async def follow_up_next(conn: asyncpg.Connection, tools: Tools) -> Invoice | None:
    """Claims the invoice whose follow-up is due soonest and runs what is due now: the invoice
    email, the overdue flag, the latest reminder due. None when nothing is due.

    The claim is the invoice's row lock, taken with SKIP LOCKED: a second worker takes another
    invoice, and every step is checked against the invoice as stored (a reminder already sent
    is not due any more), so no step runs twice."""
    stored = await repository.claim_due(conn, tools.clock.now())
    if stored is None:
        return None
    invoice = stored.invoice
    for step in due_now(invoice, tools.clock):
        if step.action == "send":
            invoice.send(clock=tools.clock, public_url=tools.public_url, actor=SYSTEM)
        elif step.action == "mark_overdue":
            invoice.mark_overdue(clock=tools.clock)
        else:
            invoice.remind(clock=tools.clock, public_url=tools.public_url, offset=step.reminder_offset, actor=SYSTEM)
    if invoice.pending_events:
        await write(conn, invoice, tools, Cause())
    else:
        # Nothing could run although a step was due: cannot happen with the schedule's rules,
        # but the invoice must not be claimed again at once, forever, if it ever does.
        log.warning("follow-up of %s was due but had nothing to do; looking again in an hour", invoice.id)
        await repository.set_follow_up(conn, invoice.id, tools.clock.now() + timedelta(hours=1))
    return invoice


# --- what other services tell us ------------------------------------------------------------------


async def record_order(conn: asyncpg.Connection, order: OrderRecord) -> bool:
    """Keeps the newest state of an order; an older event changes nothing."""
    return await repository.project_order(conn, order)


async def record_merchant(conn: asyncpg.Connection, merchant: MerchantData) -> None:
    await repository.record_merchant(conn, merchant.merchant_id, merchant.name, merchant.created_at)


# --- writing ---------------------------------------------------------------------------------------


async def write(conn: asyncpg.Connection, invoice: Invoice, tools: Tools, cause: Cause, *, new: bool = False,
                stored_link: bytes | None = None, extra_events: Sequence[tuple[str, EventEnvelope]] = ()) -> Written:
    """Stores one change in the caller's transaction: the invoice with its follow-up schedule
    and newest link, the links it handed out, its events (and ``extra_events``) in the outbox,
    and an email for each event that is a message to the buyer."""
    loaded_version = invoice.loaded_version
    events = invoice.pull_events()
    links = [e.data.hosted_url for e in events if e.data.hosted_url]
    latest = tools.vault.seal(invoice.id, links[-1]) if links else None
    follow_up_at = next_follow_up_at(invoice)
    if new:
        await repository.add_invoice(conn, invoice, follow_up_at, latest)
    else:
        await repository.save_invoice(conn, invoice, loaded_version, follow_up_at, latest)
    for event in events:
        await _record(conn, invoice, event, tools, cause)
    for topic, envelope in extra_events:
        await outbox.enqueue(conn, topic, envelope)
    return Written(invoice, links[-1] if links else None, latest or stored_link, follow_up_at)


async def _record(conn: asyncpg.Connection, invoice: Invoice, event: InvoiceEvent, tools: Tools, cause: Cause) -> None:
    link = event.data.hosted_url
    if link:
        await repository.add_pay_link(conn, pay_token_hash(link.rsplit("/", 1)[1]), invoice.id, event.at)
    kind = _MAIL_OF.get(event.type)
    if kind is not None and link:
        tone = reminder_tone(invoice.due_date, event.at.date()) if kind == "reminder" else None
        await repository.queue_mail(conn, invoice.id, kind, tone, tools.vault.seal(invoice.id, link), event.at)
    await outbox.enqueue(conn, INVOICES_EVENTS, event.envelope(correlation_id=cause.correlation_id,
                                                               causation_id=cause.causation_id))
