"""The invoice email and the reminders, composed with the standard library's ``email``.

Each message has a plain-text and an HTML part (mail clients choose), the amount due, the
due date and the pay link that message carries; the invoice email also has the PDF
attached. It comes from the service's address under the merchant's name, and replies go to
the merchant. Names are encoded as RFC 2047 words, so "Zofia Łukasiewicz" arrives intact,
and line breaks in a name or subject are flattened so no text can add a header.
"""

from __future__ import annotations

from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from flint_invoicing.document import InvoiceDocument
from flint_invoicing.templating import templates

ReminderTone = Literal["upcoming", "due_today", "overdue"]


def invoice_email(doc: InvoiceDocument, *, invoice_id: str, mail_from: str, sent_at: datetime, pdf: bytes) -> EmailMessage:
    """The first email about an invoice (and any resend): the link, the amounts, the PDF."""
    _require_link(doc)
    subject = f"Invoice {doc.number} from {doc.merchant.name}: {doc.amount_due} due {doc.due}"
    message = _message(doc, invoice_id=invoice_id, mail_from=mail_from, sent_at=sent_at, subject=subject)
    values = {"doc": doc, "subject": subject}
    message.set_content(_render("mail/invoice.txt", values))
    message.add_alternative(_render("mail/invoice.html", values), subtype="html")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{doc.number}.pdf")
    return message


def reminder_email(
    doc: InvoiceDocument, *, invoice_id: str, mail_from: str, sent_at: datetime, tone: ReminderTone
) -> EmailMessage:
    """A reminder: worded for before, on or after the due date, with a fresh pay link."""
    _require_link(doc)
    headline, subject = _reminder_words(doc, tone)
    message = _message(doc, invoice_id=invoice_id, mail_from=mail_from, sent_at=sent_at, subject=subject)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a reminder
    values = {"doc": doc, "subject": subject, "headline": headline, "overdue": tone == "overdue"}
    message.set_content(_render("mail/reminder.txt", values))
    message.add_alternative(_render("mail/reminder.html", values), subtype="html")
    return message


def reminder_tone(due_date: date, today: date) -> ReminderTone:
    """How a reminder sent on ``today`` speaks of an invoice due on ``due_date``."""
    if today < due_date:
        return "upcoming"
    return "due_today" if today == due_date else "overdue"


def _reminder_words(doc: InvoiceDocument, tone: ReminderTone) -> tuple[str, str]:
    merchant = doc.merchant.name
    if tone == "upcoming":
        return (f"A friendly reminder: invoice {doc.number} from {merchant} is due on {doc.due}.",
                f"Reminder: {doc.amount_due} due {doc.due} (invoice {doc.number} from {merchant})")  # fmt: skip
    if tone == "due_today":
        return (f"Invoice {doc.number} from {merchant} is due today.",
                f"Due today: {doc.amount_due} (invoice {doc.number} from {merchant})")  # fmt: skip
    return (f"Invoice {doc.number} from {merchant} is overdue: it was due on {doc.due}.",
            f"Overdue: {doc.amount_due} was due {doc.due} (invoice {doc.number} from {merchant})")  # fmt: skip


def _message(doc: InvoiceDocument, *, invoice_id: str, mail_from: str, sent_at: datetime, subject: str) -> EmailMessage:
    message = EmailMessage()
    sender_user, _, sender_domain = mail_from.rpartition("@")
    message["From"] = Address(_one_line(doc.merchant.name), sender_user, sender_domain)
    message["To"] = Address(_one_line(doc.bill_to_name or ""), addr_spec=doc.bill_to_email)
    if doc.merchant.email:
        message["Reply-To"] = Address(_one_line(doc.merchant.name), addr_spec=doc.merchant.email)
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(idstring=invoice_id, domain=sender_domain or "flint.localhost")
    message["X-Flint-Invoice"] = invoice_id
    return message


def _require_link(doc: InvoiceDocument) -> None:
    if not doc.pay_url:
        raise ValueError(f"{doc.number} is {doc.status}: there is no pay link to send")


def _render(template: str, values: dict) -> str:
    return templates().get_template(template).render(**values)


def _one_line(text: str) -> str:
    return " ".join(text.split())
