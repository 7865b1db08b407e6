"""The pay form's CSRF protection: a signed, timestamped token bound to the browser and the
invoice (itsdangerous, under the key ``ServiceSecret`` derives for browser signatures).

The page sets a random nonce in a cookie (``HttpOnly``, ``SameSite=Strict``, scoped to the pay
pages) and puts a token in the form that signs the invoice id with the nonce's hash and the
time. A post counts only with both: another site can make a browser post a form, but it can
neither read the page's token nor make the browser send a strict cookie with a cross-site
post. A token older than ``max_age`` is refused as well ("this page was open for too long").
A browser that has a nonce keeps it, so two tabs of one invoice both work.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from itsdangerous import BadSignature, TimestampSigner
from starlette.responses import Response

from flint_chassis.service_secret import ServiceSecret
from flint_invoicing.domain import Clock

COOKIE = "flint_pay"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22}$")


class _ClockedSigner(TimestampSigner):
    """itsdangerous' timestamp signer reading the service's clock, not the wall's."""

    def __init__(self, *args: object, clock: Clock, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class PayForms:
    def __init__(self, secret: ServiceSecret, *, clock: Clock, max_age: int, cookie_path: str, secure: bool) -> None:
        self._signer = _ClockedSigner(secret.signing_key, salt="flint.pay-form", digest_method=hashlib.sha256,
                                      clock=clock)
        self._max_age = max_age
        self._cookie_path = cookie_path
        self._secure = secure

    def nonce(self, cookie: str | None) -> str:
        """The browser's own nonce when it sent one, else a new one."""
        return cookie if cookie and _NONCE.match(cookie) else secrets.token_urlsafe(16)

    def token(self, nonce: str, invoice_id: str) -> str:
        value = _bound(nonce, invoice_id)
        return self._signer.sign(value).decode()[len(value) + 1:]  # the timestamp and signature only

    def valid(self, cookie: str | None, invoice_id: str, token: object) -> bool:
        """True for a token this service gave this browser for this invoice, recently enough."""
        if not cookie or not _NONCE.match(cookie) or not isinstance(token, str) or len(token) > 200:
            return False
        try:
            self._signer.unsign(f"{_bound(cookie, invoice_id)}.{token}", max_age=self._max_age)
        except BadSignature:  # SignatureExpired is one too
            return False
        return True

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(COOKIE, nonce, path=self._cookie_path, httponly=True, samesite="strict",
                            secure=self._secure)


def _bound(nonce: str, invoice_id: str) -> str:
    return f"{invoice_id}.{hashlib.sha256(nonce.encode()).hexdigest()[:32]}"
