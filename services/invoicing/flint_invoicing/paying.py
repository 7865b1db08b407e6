"""Paying an invoice on its hosted page: capture through the payment processor, exactly once.

Two things make a second capture impossible:

- **The invoice's row lock** is held from before the capture until the payment is stored. A
  second tab (or a double click) waits for it, then finds the invoice paid. A merchant's void
  waits the same way, so no invoice is voided while its money is being taken.
- **The processor's idempotency key** is the payment id, derived from the invoice and the
  attempt's number (``payment_id_for``). If the answer is lost after the card was charged (a
  crash, the database gone, the processor's reply lost), nothing was stored, the number did not
  move, and the buyer's next try asks the processor with the same key: it answers with the
  charge it already made, and the page shows the receipt.

A declined card is stored as an attempt (the next try gets a new id); an invalid card leaves
nothing anywhere. Captured: ``invoice.paid`` and ``payment.captured`` go to the outbox in the
same transaction as the paid invoice, and the orders service lowers the order's balance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import PaymentCaptured, build_envelope
from flint_contracts.events.actor import Actor
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_invoicing import handlers, repository
from flint_invoicing.domain import PAYABLE, SOURCE, Invoice, payment_id_for
from flint_invoicing.handlers import Cause, Tools
from flint_invoicing.pages import card_label
from flint_invoicing.repository import Attempt
from flint_payments import (
    CardDeclined,
    CardDetails,
    Charge,
    IdempotencyKeyReused,
    InvalidCard,
    PaymentProcessor,
    PermanentPaymentError,
    RetryablePaymentError,
)

log = logging.getLogger("flint.invoicing.paying")

BUYER = Actor(type="buyer")


@dataclass(frozen=True)
class Paid:
    invoice: Invoice
    attempt: Attempt


@dataclass(frozen=True)
class AlreadyPaid:
    invoice: Invoice


@dataclass(frozen=True)
class NotPaid:
    """Nothing was charged by this request; ``code`` says why (``flint_invoicing.pages.pay_error``)."""

    invoice: Invoice
    code: str


@dataclass(frozen=True)
class Gone:
    """The invoice cannot be paid any more (voided)."""


Outcome = Paid | AlreadyPaid | NotPaid | Gone


@dataclass(frozen=True)
class Payer:
    """What paying needs: the database, the processor, the service's tools and how long to wait
    for another payment of the same invoice."""

    pool: asyncpg.Pool
    processor: PaymentProcessor
    tools: Tools
    lock_timeout: float

    async def pay(self, shown: Invoice, card: CardDetails, *, correlation_id: str | None = None) -> Outcome:
        """Takes what the invoice (``shown`` to the buyer) still asks for from ``card``, once."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = {int(self.lock_timeout * 1000)}")
            try:
                stored = await repository.lock_invoice(conn, shown.id)
            except asyncpg.LockNotAvailableError:  # another payment of it takes longer than it should
                return NotPaid(shown, "payment_in_progress")
            if stored is None:
                return Gone()
            return await self._pay_locked(conn, stored.invoice, card, Cause(correlation_id=correlation_id))

    async def _pay_locked(self, conn: asyncpg.Connection, invoice: Invoice, card: CardDetails, cause: Cause) -> Outcome:
        if invoice.status == "paid":
            return AlreadyPaid(invoice)
        if invoice.status not in PAYABLE:
            return Gone()
        if not await _order_still_owes(conn, invoice):
            return NotPaid(invoice, "order_changed")
        number = await repository.attempts_made(conn, invoice.id) + 1
        payment_id = payment_id_for(invoice, number)
        try:
            charge = await self.processor.capture(
                amount=invoice.amount_remaining, card=card, idempotency_key=payment_id,
                description=f"Invoice {invoice.display_number}",
                metadata={"invoice_id": invoice.id, "order_id": invoice.order_id, "payment_id": payment_id},
            )  # fmt: skip
        except CardDeclined as declined:
            await repository.record_attempt(conn, Attempt(payment_id, invoice.id, number, "declined",
                                                          self.tools.clock.now(), failure_code=declined.code))
            return NotPaid(invoice, declined.code)
        except InvalidCard as invalid:  # the processor kept nothing, not even the key
            return NotPaid(invoice, invalid.code)
        except IdempotencyKeyReused:
            # An earlier attempt under this id reached the processor with other card details
            # and its outcome was never stored: charging again could charge twice.
            log.error("payment %s of %s: an earlier attempt's outcome is unknown; not charging again",
                      payment_id, invoice.id)
            return NotPaid(invoice, "attempt_unresolved")
        except RetryablePaymentError as error:  # outcome unknown: the next try uses the same id
            return NotPaid(invoice, error.code)
        except PermanentPaymentError as error:
            log.error("payment %s of %s refused by the processor: %s", payment_id, invoice.id, error.code)
            return NotPaid(invoice, error.code)
        attempt = Attempt(payment_id, invoice.id, number, "captured", self.tools.clock.now(),
                          processor_reference=charge.reference, card=card_label(charge.card.brand, charge.card.last4))
        await repository.record_attempt(conn, attempt)
        invoice.record_payment(payment_id, charge.amount, clock=self.tools.clock, actor=BUYER)
        captured = self._captured_event(invoice, charge, payment_id, cause)
        await handlers.write(conn, invoice, self.tools, cause, extra_events=[(PAYMENTS_EVENTS, captured)])
        return Paid(invoice, attempt)

    def _captured_event(self, invoice: Invoice, charge: Charge, payment_id: str, cause: Cause) -> EventEnvelope:
        data = PaymentCaptured(
            payment_id=payment_id, order_id=invoice.order_id, amount=charge.amount, method="card",
            processor=self.processor.name, processor_reference=charge.reference, invoice_id=invoice.id,
            captured_at=charge.created_at,
        )  # fmt: skip
        return build_envelope(types.PAYMENT_CAPTURED, data, source=SOURCE, merchant_id=invoice.merchant_id,
                              correlation_id=cause.correlation_id)


async def _order_still_owes(conn: asyncpg.Connection, invoice: Invoice) -> bool:
    """False when the order, as invoicing last saw it, no longer owes what the invoice asks
    for (canceled, or paid another way): taking the money would only make a refund."""
    order = await repository.get_order(conn, invoice.order_id)
    if order is None:
        return True
    others = [i for i in await repository.invoices_of_order(conn, invoice.order_id) if i.id != invoice.id]
    return order.billable_now(others).balance_due >= invoice.amount_remaining

