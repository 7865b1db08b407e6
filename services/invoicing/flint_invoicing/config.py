"""Settings of the invoicing service. Values come from the environment (``.flint/stack.env``
written by ``make up``); tests pass them as keyword arguments.

Only what the parts built so far read is here: the public address of the pay pages, and the
SMTP server mail goes to. The HTTP server, consumers and worker add theirs when they land.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from flint_chassis.config import ServiceSettings


class InvoicingSettings(ServiceSettings):
    service_name: ClassVar[str] = "invoicing"

    public_url: str = Field(
        default="http://127.0.0.1:8104", alias="FLINT_INVOICING_PUBLIC_URL",
        description="Base URL buyers reach the hosted pages under: links are <public_url>/pay/<token>.",
    )
    smtp_host: str = Field(default="127.0.0.1", alias="FLINT_SMTP_HOST", description="SMTP server for invoice mail.")
    smtp_port: int = Field(default=8025, ge=1, le=65535, alias="FLINT_SMTP_PORT", description="Its port.")
    smtp_starttls: bool = Field(
        default=False, alias="FLINT_SMTP_STARTTLS", description="Upgrade the connection with STARTTLS (real servers)."
    )
    smtp_username: str | None = Field(default=None, alias="FLINT_SMTP_USERNAME", description="Login, if the server wants one.")
    smtp_password: SecretStr | None = Field(default=None, alias="FLINT_SMTP_PASSWORD", description="Its password.")
    smtp_timeout: float = Field(
        default=10.0, gt=0, alias="FLINT_SMTP_TIMEOUT", description="Seconds to wait for the SMTP server at each step."
    )
    mail_from: str = Field(
        default="invoices@flint.localhost", alias="FLINT_MAIL_FROM",
        description="The address invoice mail comes from; the merchant's name is shown with it, replies go to the merchant.",
    )
