"""The worker's own loops, beside the chassis' consumers and outbox relay: follow-up (the
invoice email, reminders, overdue) and the mail sender.

**Follow-up.** The schedule is ``invoices.next_follow_up_at`` in PostgreSQL. Each round claims
the invoice due soonest by locking its row with ``FOR UPDATE SKIP LOCKED``, runs what is due
through the invoice's own methods and stores the result with the next time, in one
transaction per invoice. A second worker skips a claimed invoice; a worker stopped halfway
rolls back and the step runs once, later. Time is the service's clock (``FLINT_INVOICING_
CLOCK_OFFSET`` moves it for tests and demos).

**Mail.** Messages are queued in ``mail_outbox`` in the transaction of the change they tell
of. The sender claims one at a time (``SKIP LOCKED``), renders it from the invoice as it is
now (with the link the change handed out, the PDF for the invoice email), hands it to the
SMTP server and marks it sent, holding the row's lock meanwhile. A server that is down or
answers 4xx is tried again after ``mail_retry_delays``; a refusal (5xx) is given up and
logged. Mail about an invoice that was paid or voided since is not sent. Delivery to the SMTP
server is at least once: a worker killed between the server's "accepted" and its own commit
sends that message again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from email.message import EmailMessage

import asyncpg

from flint_invoicing import handlers, repository
from flint_invoicing.document import InvoiceDocument
from flint_invoicing.domain import Invoice
from flint_invoicing.handlers import Tools
from flint_invoicing.mail import invoice_email, reminder_email
from flint_invoicing.presenting import document_of, pdf_of
from flint_invoicing.smtp import MailNotSent, SmtpMailer

log = logging.getLogger("flint.invoicing.worker")

# A loop that failed (the database gone) waits this long before its next round.
_AFTER_FAILURE = 1.0


class Loop:
    """Runs ``round`` (returns True when it did something, so the next round comes at once)
    until stopped, sleeping ``interval`` seconds when idle. Remembers when it last completed a
    round, for readiness."""

    def __init__(self, name: str, round_: Callable[[], Awaitable[bool]], interval: float) -> None:
        self.name, self._round, self._interval = name, round_, interval
        self.last_round_at = time.monotonic()
        self.rounds = 0
        self.failing: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"invoicing-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                busy = await self._round()
                self.failing = None
            except Exception as error:  # the next round tries again; a bug must not end the loop
                self.failing = f"{type(error).__name__}: {error}"
                log.exception("%s round failed", self.name)
                busy = False
                await asyncio.sleep(_AFTER_FAILURE)
            self.last_round_at = time.monotonic()
            self.rounds += 1
            if not busy:
                await asyncio.sleep(self._interval)


class FollowUp:
    """Follow-up rounds: one invoice per transaction."""

    def __init__(self, pool: asyncpg.Pool, tools: Tools) -> None:
        self.pool, self.tools = pool, tools

    async def round(self) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            invoice = await handlers.follow_up_next(conn, self.tools)
        return invoice is not None


class MailSender:
    """Mail rounds: one message per transaction."""

    def __init__(self, pool: asyncpg.Pool, tools: Tools, mailer: SmtpMailer, *, mail_from: str,
                 retry_delays: list[float]) -> None:
        self.pool, self.tools, self.mailer = pool, tools, mailer
        self.mail_from, self.retry_delays = mail_from, retry_delays

    async def round(self) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            mail = await repository.claim_mail(conn)
            if mail is None:
                return False
            await self._deliver(conn, mail)
        return True

    async def _deliver(self, conn: asyncpg.Connection, mail: repository.QueuedMail) -> None:
        invoice = await repository.invoice(conn, mail.invoice_id)  # not locked: paying must not wait for SMTP
        if invoice is None or invoice.status != "open":
            reason = "the invoice is gone" if invoice is None else f"the invoice is {invoice.status} now"
            await repository.mail_given_up(conn, mail.id, f"not sent: {reason}")
            return
        link = self.tools.vault.open(invoice.id, mail.link)
        document = await document_of(conn, invoice, pay_url=link)
        try:
            await self.mailer.send(await self._message(mail, invoice, document))
        except MailNotSent as error:
            await self._not_sent(conn, mail, error)
            return
        await repository.mail_sent(conn, mail.id)
        log.info("mailed %s (%s) of %s to %s", mail.kind, mail.id, invoice.id, invoice.customer.email)

    async def _message(self, mail: repository.QueuedMail, invoice: Invoice, document: InvoiceDocument) -> EmailMessage:
        if mail.kind == "invoice":
            return invoice_email(document, invoice_id=invoice.id, mail_from=self.mail_from, sent_at=mail.written_at,
                                 pdf=await pdf_of(document, invoice))
        return reminder_email(document, invoice_id=invoice.id, mail_from=self.mail_from, sent_at=mail.written_at,
                              tone=mail.tone or "upcoming")

    async def _not_sent(self, conn: asyncpg.Connection, mail: repository.QueuedMail, error: MailNotSent) -> None:
        if error.retryable and mail.attempts < len(self.retry_delays):
            delay = self.retry_delays[mail.attempts]
            log.warning("mail %s of %s not sent (%s); trying again in %ss", mail.id, mail.invoice_id, error.reason, delay)
            await repository.mail_later(conn, mail.id, error.reason, delay)
        else:
            log.error("mail %s of %s given up: %s", mail.id, mail.invoice_id, error.reason)
            await repository.mail_given_up(conn, mail.id, error.reason)


@contextlib.asynccontextmanager
async def running(*loops: Loop) -> AsyncIterator[None]:
    for loop in loops:
        loop.start()
    try:
        yield
    finally:
        for loop in loops:
            await loop.stop()


def stalled(loops: list[Loop], *, after: float) -> list[str]:
    """Loops that have not completed a round for ``after`` seconds, or whose last round failed."""
    now = time.monotonic()
    found = [f"{loop.name}: no round for {now - loop.last_round_at:.0f}s" for loop in loops
             if now - loop.last_round_at > after]
    found += [f"{loop.name}: {loop.failing}" for loop in loops if loop.failing]
    return found

