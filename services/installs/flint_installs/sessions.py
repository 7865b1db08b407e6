"""The merchant's browser session on the OAuth pages, and the CSRF tokens of its forms.

The session is a signed cookie (HMAC-SHA256 under a key derived from FLINT_INSTALLS_SECRET),
HttpOnly, SameSite=Lax, scoped to ``/oauth``, lasting ``session_ttl``. It holds the merchant
id, a random session id and its expiry; logging in again always makes a new session id.

CSRF tokens are MACs binding the session id to the exact authorization request, so a token
taken from one consent page cannot approve another request, another app, another state or
another redirect URI. The login form is protected the same way through a short-lived
pre-login cookie, so nobody can log a merchant into someone else's account.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Response

from flint_chassis.service_secret import ServiceSecret, b64url, b64url_decode
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
        self._secret = secret
        self._ttl = ttl
        self._secure = secure

    # ------------------------------------------------------------ session cookie
    def start(self, response: Response, merchant_id: str) -> Session:
        session = Session(merchant_id, secrets.token_urlsafe(16), int(time.time()) + self._ttl)
        body = b64url(json.dumps({"m": session.merchant_id, "s": session.session_id, "e": session.expires_at}).encode())
        self._set(response, SESSION_COOKIE, f"{body}.{self._secret.sign('session', body)}", self._ttl)
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not self._secret.verify("session", body, signature):
            return None
        try:
            fields = json.loads(b64url_decode(body))
            session = Session(str(fields["m"]), str(fields["s"]), int(fields["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > time.time() else None

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)

    # ------------------------------------------------------------ consent CSRF
    def consent_token(self, session: Session, request: AuthorizationRequest) -> str:
        return self._secret.sign("consent", f"{session.session_id}\n{request.canonical()}")

    def consent_token_valid(self, session: Session, request: AuthorizationRequest, token: str | None) -> bool:
        return bool(token) and self._secret.verify("consent", f"{session.session_id}\n{request.canonical()}", token)

    # ------------------------------------------------------------ login CSRF
    def login_nonce(self, existing: str | None) -> str:
        """The pre-login nonce: the browser's own when it has one, so two tabs both work."""
        return existing if existing and 16 <= len(existing) <= 64 else secrets.token_urlsafe(16)

    def set_login_cookie(self, response: Response, nonce: str) -> None:
        self._set(response, LOGIN_COOKIE, nonce, LOGIN_COOKIE_TTL)

    def login_token(self, nonce: str, request: AuthorizationRequest) -> str:
        return self._secret.sign("login", f"{nonce}\n{request.canonical()}")

    def login_token_valid(self, nonce: str | None, request: AuthorizationRequest, token: str | None) -> bool:
        return bool(nonce) and bool(token) and self._secret.verify("login", f"{nonce}\n{request.canonical()}", token)

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax",
                            secure=self._secure)
