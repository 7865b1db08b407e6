"""Sending mail over SMTP with aiosmtplib, to the server the settings name.

A failure is a ``MailNotSent`` that says whether trying again can help: a server that is
down or slow (retryable) or one that refuses the recipient or the message (permanent), so
follow-up retries the first and records the second instead of retrying it forever.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from flint_invoicing.config import InvoicingSettings


class MailNotSent(Exception):
    """The message was not accepted. ``retryable`` says whether a later try may succeed."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class SmtpMailer:
    """Hands messages to one SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.starttls, self.username, self.password = starttls, username, password

    @classmethod
    def from_settings(cls, settings: InvoicingSettings) -> SmtpMailer:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                   starttls=settings.smtp_starttls, username=settings.smtp_username, password=password)  # fmt: skip

    async def send(self, message: EmailMessage) -> None:
        """Delivers ``message`` to its To/Cc/Bcc recipients, or raises ``MailNotSent``."""
        try:
            await aiosmtplib.send(
                message, hostname=self.host, port=self.port, timeout=self.timeout, start_tls=self.starttls,
                use_tls=False, username=self.username, password=self.password,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise MailNotSent(f"the server refused every recipient: {error}", retryable=False) from error
        except aiosmtplib.SMTPResponseException as error:
            permanent = 500 <= error.code < 600
            raise MailNotSent(f"the server answered {error.code} {error.message}", retryable=not permanent) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailNotSent(f"could not reach {self.host}:{self.port}: {error}", retryable=True) from error

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host}:{self.port})"  # never the password
