"""The invoice email and reminders, sent over real SMTP to the mail sink and read back from its folder."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from flint_invoicing.config import InvoicingSettings
from flint_invoicing.document import invoice_document
from flint_invoicing.domain import Customer, FixedClock
from flint_invoicing.mail import invoice_email, reminder_email, reminder_tone
from flint_invoicing.mailsink import EmlFolder, serve
from flint_invoicing.pdf import render_invoice_pdf
from flint_invoicing.smtp import MailNotSent, SmtpMailer
from tests.invoicing.pages import ACME, camping_invoice
from tests.invoicing.support import T0, invoice_for, order
from tests.support.polling import eventually

SENT_AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
PORTS = range(18600, 18700)  # this workstream's range for servers its tests start


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    pytest.fail(f"no free port in {PORTS}")


def read_eml(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def body(message: EmailMessage, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def invoice_message(**kw) -> tuple[EmailMessage, str]:
    invoice = camping_invoice()
    url = invoice.pending_events[0].data.hosted_url
    doc = invoice_document(invoice, ACME, pay_url=url)
    pdf = render_invoice_pdf(doc, created_at=invoice.created_at)
    return invoice_email(doc, invoice_id=invoice.id, mail_from="invoices@flint.test", sent_at=SENT_AT, pdf=pdf, **kw), url


@contextlib.asynccontextmanager
async def sink_process(folder: Path) -> AsyncIterator[int]:
    """``python -m flint_invoicing.mailsink`` as make up runs it, on a port of its own."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "flint_invoicing.mailsink", "--dir", str(folder), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        await eventually(lambda: _answers(port) or process.poll() is not None, timeout=20, message="the mail sink")
        assert process.poll() is None, process.stdout.read().decode()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_the_invoice_email_goes_through_smtp_into_the_sink_folder(tmp_path: Path):
    # given the mail sink running as `make up` runs it
    async with sink_process(tmp_path) as port:
        # when the invoice email is sent to it over SMTP
        message, url = invoice_message()
        await SmtpMailer("127.0.0.1", port, timeout=5).send(message)
        # then the folder holds it as an .eml file a person can open
        [path] = await eventually(lambda: list(tmp_path.glob("*.eml")), message="the .eml file")
    received = read_eml(path)
    assert received["X-Flint-Rcpt-To"] == "zofia@example.pl"
    assert str(received["To"]) == "Zofia Łukasiewicz <zofia@example.pl>"
    assert str(received["From"]) == "Acme Outdoor <invoices@flint.test>"
    assert str(received["Reply-To"]) == "Acme Outdoor <billing@acme.example>"
    assert received["Subject"] == "Invoice INV-0042 from Acme Outdoor: €323.68 due 11 December 2026"
    text, html = body(received, "plain"), body(received, "html")
    for part in (text, html):
        assert url in part and "€323.68" in part and "11 December 2026" in part and "Trail tent, two person" in part
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "INV-0042.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF-")
    assert not list(tmp_path.glob(".*.part"))  # nothing half-written is left behind


@pytest.mark.parametrize(
    "today, tone, words",
    [
        (date(2026, 12, 8), "upcoming", "Reminder: €323.68 due 11 December 2026"),
        (date(2026, 12, 11), "due_today", "Due today: €323.68"),
        (date(2026, 12, 14), "overdue", "Overdue: €323.68 was due 11 December 2026"),
    ],
)
async def test_each_reminder_says_when_the_invoice_is_due_and_carries_its_own_link(tmp_path, today, tone, words):
    invoice = camping_invoice()
    invoice.send(clock=_clock(T0), public_url="https://pay.flint.test")
    reminder = invoice.remind(clock=_clock(T0), public_url="https://pay.flint.test")
    doc = invoice_document(invoice, ACME, pay_url=reminder.data.hosted_url)
    assert reminder_tone(invoice.due_date, today) == tone
    message = reminder_email(doc, invoice_id=invoice.id, mail_from="invoices@flint.test", sent_at=SENT_AT, tone=tone)
    server = await serve(tmp_path, "127.0.0.1", port := free_port())
    try:
        await SmtpMailer("127.0.0.1", port, timeout=5).send(message)
    finally:
        server.close()
        await server.wait_closed()
    [path] = list(tmp_path.glob("*.eml"))
    received = read_eml(path)
    assert received["Subject"].startswith(words) and received["Auto-Submitted"] == "auto-generated"
    assert reminder.data.hosted_url in body(received, "plain") and reminder.data.hosted_url in body(received, "html")
    assert invoice.pending_events[0].data.hosted_url not in body(received, "plain")  # a link of its own
    assert list(received.iter_attachments()) == []


def test_a_name_cannot_add_a_header():
    invoice = invoice_for(order(customer=Customer(email="ada@example.com", name="Ada\r\nBcc: evil@example.com")))
    doc = invoice_document(invoice, ACME, pay_url=invoice.pending_events[0].data.hosted_url)
    message = invoice_email(doc, invoice_id=invoice.id, mail_from="invoices@flint.test", sent_at=SENT_AT, pdf=b"%PDF-")
    assert message["Bcc"] is None and "evil@example.com" not in str(message["To"]).split("<")[1]


def test_a_paid_invoice_has_no_link_to_send():
    invoice = camping_invoice()
    invoice.void(clock=_clock(T0), actor=invoice.pending_events[0].data.actor)
    doc = invoice_document(invoice, ACME, pay_url="https://pay.flint.test/pay/x")
    with pytest.raises(ValueError, match="no pay link"):
        reminder_email(doc, invoice_id=invoice.id, mail_from="invoices@flint.test", sent_at=SENT_AT, tone="overdue")


async def test_a_server_that_is_not_there_is_a_retryable_failure():
    message, _ = invoice_message()
    with pytest.raises(MailNotSent) as failed:
        await SmtpMailer("127.0.0.1", free_port(), timeout=2).send(message)
    assert failed.value.retryable and "could not reach" in failed.value.reason


async def test_a_refused_recipient_is_a_permanent_failure(tmp_path: Path):
    class Refusing(EmlFolder):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return "550 no such mailbox"

    loop = asyncio.get_running_loop()
    port = free_port()
    server = await loop.create_server(lambda: SMTP(Refusing(tmp_path), hostname="test"), "127.0.0.1", port)
    try:
        message, _ = invoice_message()
        with pytest.raises(MailNotSent) as failed:
            await SmtpMailer("127.0.0.1", port, timeout=5).send(message)
    finally:
        server.close()
        await server.wait_closed()
    assert not failed.value.retryable and list(tmp_path.glob("*.eml")) == []


def test_the_mailer_reads_its_server_from_the_settings():
    settings = InvoicingSettings(FLINT_SMTP_HOST="mail.example", FLINT_SMTP_PORT=2525, FLINT_SMTP_PASSWORD="s3cret")
    mailer = SmtpMailer.from_settings(settings)
    assert (mailer.host, mailer.port, mailer.password) == ("mail.example", 2525, "s3cret")
    assert "s3cret" not in repr(mailer)


def _clock(at: datetime) -> FixedClock:
    return FixedClock(at)
