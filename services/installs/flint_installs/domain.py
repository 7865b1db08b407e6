"""The install model and the OAuth rules, pure and synchronous: no I/O lives here.

An ``Install`` records the events that describe its changes (``pull_events``); a handler
stores the install and writes those events to the outbox in one transaction. The checks
an authorization code or a refresh token must pass before it buys a token live here too,
each raising an ``OAuthError`` with the RFC 6749 error code a client should see.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flint_contracts.envelope import EventEnvelope
from flint_contracts.event_types import INSTALL_CREATED, INSTALL_SCOPES_UPDATED, INSTALL_UNINSTALLED, SCOPES
from flint_contracts.events import InstallData, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_URL_LENGTH
from flint_contracts.literals import InstallStatus

from flint_chassis.service_secret import b64url

SOURCE = "flint.installs"


class OAuthError(Exception):
    """An OAuth 2.0 error response (RFC 6749 §4.1.2.1, §5.2, RFC 7009)."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


class CodeReplayed(OAuthError):
    """An authorization code presented a second time: tokens it bought must be revoked."""

    def __init__(self, family_id: str | None) -> None:
        super().__init__("invalid_grant", "authorization code already used")
        self.family_id = family_id


class RefreshTokenReused(OAuthError):
    """A rotated refresh token presented again: its whole family must be revoked."""

    def __init__(self, family_id: str) -> None:
        super().__init__("invalid_grant", "refresh token already used; every token of this grant is now revoked")
        self.family_id = family_id


# ---------------------------------------------------------------- scopes
def ordered_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Scopes without duplicates, in the registry's order (so equal sets compare equal)."""
    wanted = set(scopes)
    return tuple(s for s in SCOPES if s in wanted)


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(s for s in set(scopes) if s not in SCOPES)


def requested_scopes(scope_param: str | None, allowed: Sequence[str]) -> tuple[str, ...]:
    """The scopes a request asks for: all of ``allowed`` when it names none.

    Raises ``invalid_scope`` for a scope that does not exist or that ``allowed`` lacks.
    """
    if scope_param is None or not scope_param.strip():
        return ordered_scopes(allowed)
    asked = scope_param.split()
    if unknown := unknown_scopes(asked):
        raise OAuthError("invalid_scope", f"unknown scope: {' '.join(unknown)}")
    if beyond := sorted(set(asked) - set(allowed)):
        raise OAuthError("invalid_scope", f"not allowed for this client: {' '.join(beyond)}")
    return ordered_scopes(asked)


# ---------------------------------------------------------------- redirect URIs
_LOOPBACK_NAMES = {"localhost"}


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered as a redirect URI, or None when it can.

    Absolute https URLs, or http on a loopback host for local development (RFC 8252);
    no fragment and no credentials. Matching at authorization time is exact.
    """
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an absolute http(s) URL"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment"
    if parts.username or parts.password:
        return "must not contain credentials"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return "must use https (http is allowed for localhost and 127.0.0.1 only)"
    if len(uri) > MAX_URL_LENGTH:
        return "is too long"
    return None


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- PKCE
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def valid_code_challenge(challenge: str | None) -> bool:
    return bool(challenge) and bool(_CHALLENGE.match(challenge))


def pkce_matches(verifier: str | None, challenge: str) -> bool:
    if not verifier or not _VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(pkce_s256(verifier), challenge)


# ---------------------------------------------------------------- merchants and apps
@dataclass(frozen=True)
class Merchant:
    id: str
    name: str
    secret_key_hint: str
    created_at: datetime


@dataclass(frozen=True)
class App:
    """A partner app; its id is its OAuth client_id."""

    id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime

    @property
    def client_id(self) -> str:
        return self.id

    def allows_redirect(self, uri: str | None) -> bool:
        """Exact string match against a registered URI: no prefix, no normalization."""
        return uri is not None and any(hmac.compare_digest(uri, known) for known in self.redirect_uris)


# ---------------------------------------------------------------- installs
@dataclass
class Install:
    """One app installed by one merchant, with the scopes the merchant granted."""

    id: str
    merchant_id: str
    app_id: str
    scopes: tuple[str, ...]
    status: InstallStatus
    version: int
    created_at: datetime
    updated_at: datetime
    uninstalled_at: datetime | None = None
    _events: list[EventEnvelope] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, merchant_id: str, app_id: str, scopes: Sequence[str], now: datetime) -> Install:
        install = cls(id=new_id("ins"), merchant_id=merchant_id, app_id=app_id, scopes=ordered_scopes(scopes),
                      status="active", version=1, created_at=now, updated_at=now)
        install._record(INSTALL_CREATED, previous=None)
        return install

    @property
    def active(self) -> bool:
        return self.status == "active"

    def grant(self, scopes: Sequence[str], now: datetime) -> None:
        """The merchant approved the app again: the granted scopes become exactly ``scopes``."""
        if not self.active:
            raise ValueError("an uninstalled install cannot be re-granted; create a new install")
        scopes = ordered_scopes(scopes)
        if scopes == self.scopes:
            return
        previous = {"scopes": list(self.scopes)}
        self.scopes = scopes
        self._change(now)
        self._record(INSTALL_SCOPES_UPDATED, previous=previous)

    def uninstall(self, now: datetime) -> bool:
        """Returns False when it was already uninstalled (nothing changes then)."""
        if not self.active:
            return False
        previous = {"status": self.status}
        self.status = "uninstalled"
        self.uninstalled_at = now
        self._change(now)
        self._record(INSTALL_UNINSTALLED, previous=previous)
        return True

    def pull_events(self) -> list[EventEnvelope]:
        events, self._events = self._events, []
        return events

    def _change(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = max(now, self.updated_at)

    def _record(self, event_type: str, previous: dict[str, Any] | None) -> None:
        # The event's time is the install's updated_at, which only moves forward: projections
        # keyed on it (flint_chassis.auth.InstallProjection) never let an old event win.
        data = InstallData(install_id=self.id, app_id=self.app_id, merchant_id=self.merchant_id,
                           scopes=list(self.scopes), status=self.status, occurred_at=self.updated_at)
        self._events.append(build_envelope(
            event_type, data, source=SOURCE, time=self.updated_at, sequence=self.version, version=self.version,
            previous=previous,
        ))


# ---------------------------------------------------------------- codes and refresh tokens
@dataclass(frozen=True)
class AuthorizationCode:
    app_id: str
    merchant_id: str
    install_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    expires_at: datetime
    used_at: datetime | None
    family_id: str | None

    def redeem(self, *, client_id: str, redirect_uri: str | None, code_verifier: str | None, now: datetime) -> None:
        """Raises unless this code buys a token for this client now (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
        if self.used_at is not None:
            raise CodeReplayed(self.family_id)
        if now >= self.expires_at:
            raise OAuthError("invalid_grant", "authorization code expired")
        if not hmac.compare_digest(client_id, self.app_id):
            raise OAuthError("invalid_grant", "authorization code was issued to another client")
        if redirect_uri is None or not hmac.compare_digest(redirect_uri, self.redirect_uri):
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        if not pkce_matches(code_verifier, self.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")


@dataclass(frozen=True)
class RefreshToken:
    family_id: str
    app_id: str
    merchant_id: str
    install_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    def rotate(self, *, client_id: str, now: datetime) -> None:
        """Raises unless this refresh token may be exchanged for a new pair now."""
        if not hmac.compare_digest(client_id, self.app_id):
            raise OAuthError("invalid_grant", "refresh token was issued to another client")
        if self.revoked_at is not None:
            raise OAuthError("invalid_grant", "refresh token revoked")
        if self.used_at is not None:
            raise RefreshTokenReused(self.family_id)
        if now >= self.expires_at:
            raise OAuthError("invalid_grant", "refresh token expired")


# ---------------------------------------------------------------- authorization requests
@dataclass(frozen=True)
class AuthorizationRequest:
    """The parameters of ``GET /oauth/authorize``, carried unchanged through login and consent."""

    client_id: str | None = None
    redirect_uri: str | None = None
    response_type: str | None = None
    scope: str | None = None
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
              "code_challenge_method")

    @classmethod
    def from_params(cls, params: Any) -> AuthorizationRequest:
        return cls(**{name: params.get(name) for name in cls.FIELDS})

    def params(self) -> dict[str, str]:
        return {name: value for name in self.FIELDS if (value := getattr(self, name)) is not None}

    def canonical(self) -> str:
        """One string naming exactly this request (what CSRF tokens are bound to)."""
        return json.dumps([getattr(self, name) for name in self.FIELDS], separators=(",", ":"))

    def client_problem(self, app: App | None) -> str | None:
        """Why the client or its redirect URI cannot be trusted: shown as a page, never redirected to."""
        if not self.client_id:
            return "The request names no client (client_id is missing)."
        if app is None:
            return "The app asking for access (client_id) is not registered with Flint."
        if not self.redirect_uri:
            return "The request has no redirect_uri."
        if not app.allows_redirect(self.redirect_uri):
            return "The redirect_uri is not one the app registered."
        return None

    def granted_scopes(self, app: App) -> tuple[str, ...]:
        """The scopes to ask the merchant for. Raises an error the client is told through its redirect URI."""
        if self.response_type != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if not self.state:
            raise OAuthError("invalid_request", "state is required")
        if not self.code_challenge:
            raise OAuthError("invalid_request", "code_challenge is required (PKCE)")
        if self.code_challenge_method != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not valid_code_challenge(self.code_challenge):
            raise OAuthError("invalid_request", "code_challenge must be 43 base64url characters")
        return requested_scopes(self.scope, app.scopes)
