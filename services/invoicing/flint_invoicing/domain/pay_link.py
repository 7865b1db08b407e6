"""The hosted pay link: ``<public url>/pay/<token>``.

The token is 256 random bits from :mod:`secrets` (43 URL-safe characters), so nobody can
guess one. The invoice stores only the token's SHA-256 hash: a copy of the invoicing
database does not hand anyone a working link. Every message to the buyer (the invoice email,
each reminder) carries a link of its own, and all links of an invoice stop working together,
``PAY_LINK_DAYS_AFTER_DUE`` days after its due date. The page looks a token up by its hash
(:func:`pay_token_hash`), which also refuses anything that is not shaped like a token, so a
made-up token never reaches the database.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta

from pydantic import AwareDatetime

from flint_contracts.limits import MAX_REMINDER_DAYS_AFTER_DUE
from flint_invoicing.domain.errors import InvalidInput
from flint_invoicing.domain.policy import overdue_moment
from flint_invoicing.domain.values import ValueObject

TOKEN_BYTES = 32
"""256 bits: twice the 128 a token must have to be unguessable."""
PAY_LINK_DAYS_AFTER_DUE = 120
"""Links work until this many days after the due date: past the latest reminder allowed."""
MAX_PAY_LINKS = 25
"""Links kept per invoice. Issuing one more forgets the oldest: that message's link stops
working, while the newer ones the buyer got still work."""

assert PAY_LINK_DAYS_AFTER_DUE > MAX_REMINDER_DAYS_AFTER_DUE, "the last reminder's link must still work"

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_BASE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class PayLink(ValueObject):
    """A link handed out, known only by the hash of its token."""

    token_hash: str
    issued_at: AwareDatetime


def new_pay_token() -> str:
    """A fresh token: 256 bits from the operating system's secure random source."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def pay_token_hash(token: str) -> str | None:
    """The hash to look ``token`` up by, or None when it cannot be a token at all."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def hosted_url(public_url: str, token: str) -> str:
    """The page's address for ``token`` under the service's public base URL."""
    if not isinstance(public_url, str) or not _BASE_URL.match(public_url):
        raise InvalidInput("must be an http(s) base URL without query or fragment", field="public_url")
    return f"{public_url.rstrip('/')}/pay/{token}"


def pay_links_expire_at(due_date: date) -> datetime:
    """When every link of an invoice due on ``due_date`` stops working."""
    return overdue_moment(due_date) + timedelta(days=PAY_LINK_DAYS_AFTER_DUE)
