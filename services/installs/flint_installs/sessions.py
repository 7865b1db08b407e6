"""The merchant's browser session on the OAuth pages, and the CSRF tokens of its forms.

Signing is itsdangerous' (HMAC-SHA256 under the key ``ServiceSecret`` derives from
FLINT_INSTALLS_SECRET for browser signatures, one salt per purpose), not hand-written.

The session is a signed, timestamped cookie (``URLSafeTimedSerializer``), HttpOnly,
SameSite=Lax, scoped to ``/oauth``, valid for ``session_ttl``. It holds the merchant id and
a random session id; logging in again always makes a new session id.

CSRF tokens are signatures (``Signer``) binding the session id to the exact authorization
request, so a token taken from one consent page cannot approve another request, another
app, another state or another redirect URI. The login form is protected the same way
through a short-lived pre-login cookie, so nobody can log a merchant into someone else's
account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from fastapi import Response
from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

from flint_chassis.service_secret import ServiceSecret
from flint_installs.domain import AuthorizationRequest

SESSION_COOKIE = "flint_session"
LOGIN_COOKIE = "flint_login"
COOKIE_PATH = "/oauth"
LOGIN_COOKIE_TTL = 3600


@dataclass(frozen=True)
class Session:
    merchant_id: str
    session_id: str
    expires_at: int


class BrowserSessions:
    def __init__(self, secret: ServiceSecret, *, ttl: int, secure: bool) -> None:
        key = secret.signing_key
        self._cookies = URLSafeTimedSerializer(key, salt="flint.session",
                                               signer_kwargs={"digest_method": hashlib.sha256})
        self._consent = Signer(key, salt="flint.consent", digest_method=hashlib.sha256)
        self._login = Signer(key, salt="flint.login", digest_method=hashlib.sha256)
        self._ttl = ttl
        self._secure = secure

    # ------------------------------------------------------------ session cookie
    def start(self, response: Response, merchant_id: str) -> Session:
        cookie = self._cookies.dumps({"m": merchant_id, "s": secrets.token_urlsafe(16)})
        self._set(response, SESSION_COOKIE, cookie, self._ttl)
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        session = self.read(cookie)
        assert session is not None  # just signed
        return session

    def read(self, cookie: str | None) -> Session | None:
        """The session of a cookie this service signed less than ``session_ttl`` ago, else None."""
        if not cookie:
            return None
        try:
            fields, signed_at = self._cookies.loads(cookie, max_age=self._ttl, return_timestamp=True)
            return Session(str(fields["m"]), str(fields["s"]), int(signed_at.timestamp()) + self._ttl)
        except (BadSignature, KeyError, TypeError, ValueError):  # SignatureExpired is a BadSignature
            return None

    # ------------------------------------------------------------ consent CSRF
    def consent_token(self, session: Session, request: AuthorizationRequest) -> str:
        return _signature(self._consent, f"{session.session_id}\n{request.canonical()}")

    def consent_token_valid(self, session: Session, request: AuthorizationRequest, token: str | None) -> bool:
        return bool(token) and self._consent.verify_signature(f"{session.session_id}\n{request.canonical()}", token)

    # ------------------------------------------------------------ login CSRF
    def login_nonce(self, existing: str | None) -> str:
        """The pre-login nonce: the browser's own when it has one, so two tabs both work."""
        return existing if existing and 16 <= len(existing) <= 64 else secrets.token_urlsafe(16)

    def set_login_cookie(self, response: Response, nonce: str) -> None:
        self._set(response, LOGIN_COOKIE, nonce, LOGIN_COOKIE_TTL)

    def login_token(self, nonce: str, request: AuthorizationRequest) -> str:
        return _signature(self._login, f"{nonce}\n{request.canonical()}")

    def login_token_valid(self, nonce: str | None, request: AuthorizationRequest, token: str | None) -> bool:
        return bool(nonce) and bool(token) and self._login.verify_signature(f"{nonce}\n{request.canonical()}", token)

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
                            secure=self._secure)


def _signature(signer: Signer, message: str) -> str:
    """The signature alone: the form already carries what it signs."""
    return signer.get_signature(message).decode()
