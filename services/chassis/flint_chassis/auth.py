"""Token verification, the same in every service (see docs/auth.md).

A request's bearer token is an EdDSA JWT issued by the installs service. It is accepted when
its signature checks against the installs service's JWKS, its issuer and audience match, it
has not expired, and the service's own projection of install state does not say the install
was uninstalled. The projection is fed by ``flint.installs.events.v1``, so an uninstalled
plugin's unexpired token is refused as soon as this service has consumed that event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import OKPAlgorithm

from flint_chassis.config import ServiceSettings
from flint_chassis.http.observe import note_subject
from flint_chassis.http.ratelimit import charge
from flint_chassis.install_state import InstallProjection
from flint_chassis.problems import INSUFFICIENT_SCOPE, INVALID_TOKEN, SERVICE_UNAVAILABLE, Problem

log = logging.getLogger("flint.auth")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an app acting for a merchant through an install, or the merchant itself."""

    kind: Literal["app", "merchant"]
    merchant_id: str
    app_id: str | None
    install_id: str | None
    scopes: frozenset[str]
    token_id: str
    subject: str

    def missing(self, scopes: tuple[str, ...]) -> list[str]:
        """The scopes of ``scopes`` this caller lacks."""
        return [scope for scope in scopes if scope not in self.scopes]

    @property
    def caller(self) -> str:
        """Whose idempotency keys these are (see ``caller_of``)."""
        return caller_of(self.merchant_id, self.subject)

    @property
    def actor(self) -> dict[str, str]:
        """The actor to record on timelines: the app for app tokens, else the merchant."""
        if self.kind == "app" and self.app_id:
            return {"type": "app", "id": self.app_id}
        return {"type": "merchant", "id": self.merchant_id}


def caller_of(merchant_id: str, subject: str) -> str:
    """The scope of an idempotency key: the merchant and the token's subject (an install, or the
    merchant)."""
    return f"{merchant_id}/{subject}"


class InvalidToken(Exception):
    """The token cannot be accepted; the message says why (safe to show the caller)."""


class JwksCache:
    """The issuer's public keys: fetched when an unknown ``kid`` appears (rotation) and again
    once they are ``max_age`` seconds old, so a key the issuer stopped publishing stops
    verifying. If the issuer cannot be reached, the keys held are kept."""

    def __init__(self, jwks_url: str, *, min_refresh_interval: float = 5.0, max_age: float = 300.0,
                 timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = jwks_url
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._timeout = timeout
        self._transport = transport
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any:
        age = time.monotonic() - self._fetched_at
        if kid in self._keys and age < self._max_age:
            return self._keys[kid]
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if age >= self._max_age or (kid not in self._keys and age >= self._min_refresh_interval):
                await self._refresh()
        if kid not in self._keys:
            raise InvalidToken("token signed by an unknown key")
        return self._keys[kid]

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                response = await client.get(self._url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("cannot fetch JWKS from %s: %s", self._url, error)
            return
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
                keys[jwk["kid"]] = OKPAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys


_NOT_FETCHED = object()


class TokenVerifier:
    """Checks a token's signature and claims once, then remembers the claims until the token
    expires (a plugin sends the same token for many requests, and Ed25519 verification costs
    more than a typical read). The install state is checked on every request, so an uninstall
    or a narrower re-install applies at once. Tokens are keyed by their full text, so a token
    with another signature never matches a remembered one."""

    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str,
                 installs: InstallProjection | None, leeway: float = 5.0, cache_size: int = 10_000) -> None:
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        self._installs = installs
        self._leeway = leeway
        self._cache_size = cache_size
        self._verified: dict[str, tuple[float, str, dict[str, Any]]] = {}

    async def verify(self, token: str) -> Principal:
        claims = await self.verified_claims(token)
        if claims is None:
            claims, kid = await self._check(token)
            self._remember(token, claims, kid)
        return await self.principal(claims)

    async def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token accepted before, not expired, whose key is still published;
        None if it needs the full check."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        expires, kid, claims = hit
        if time.time() >= expires:
            del self._verified[token]
            return None
        try:
            await self._jwks.key(kid)  # a dict lookup, unless the key set is due for a refresh
        except InvalidToken:
            del self._verified[token]
            return None
        return claims

    def _remember(self, token: str, claims: dict[str, Any], kid: str) -> None:
        if self._cache_size <= 0:
            return
        if len(self._verified) >= self._cache_size:
            now = time.time()
            for stale in [t for t, (expires, _, _) in self._verified.items() if expires <= now]:
                del self._verified[stale]
        if len(self._verified) >= self._cache_size:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (float(claims["exp"]) + self._leeway, kid, claims)

    async def _check(self, token: str) -> tuple[dict[str, Any], str]:
        """Signature, issuer, audience and expiry; returns the claims and the key's id."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("alg") != "EdDSA" or not header.get("kid"):
            raise InvalidToken("token must be EdDSA-signed with a kid")
        key = await self._jwks.key(header["kid"])
        try:
            claims = jwt.decode(
                token, key, algorithms=["EdDSA"], audience=self._audience, issuer=self._issuer, leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"token is not for {self._audience}") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("token from an unknown issuer") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"invalid token: {error}") from None
        return claims, header["kid"]

    async def principal(self, claims: dict[str, Any], *, install_state: Any = _NOT_FETCHED) -> Principal:
        """The caller of verified ``claims``, checked against the install projection. A route
        that fetched the install's row (status, scopes) with its own data may pass it, or None
        when the projection has no row, to save a round trip."""
        scopes = frozenset(str(claims.get("scope", "")).split())
        install_id = claims.get("install_id")
        if install_id and self._installs is not None:
            state = await self._installs.get(install_id) if install_state is _NOT_FETCHED else install_state
            if state is not None and state["status"] == "uninstalled":
                raise InvalidToken("the app was uninstalled")
            if state is not None:
                scopes &= frozenset(state["scopes"])  # a narrower re-install applies at once
        merchant_id = claims.get("merchant_id")
        if not merchant_id:
            raise InvalidToken("token has no merchant")
        return Principal(
            kind="app" if install_id else "merchant",
            merchant_id=merchant_id,
            app_id=claims.get("app_id"),
            install_id=install_id,
            scopes=scopes,
            token_id=claims["jti"],
            subject=claims["sub"],
        )


def service_verifier(
    settings: ServiceSettings, pool: asyncpg.Pool, *, audience: str, cache_size: int = 10_000,
    jwks_transport: httpx.AsyncBaseTransport | None = None,
) -> TokenVerifier:
    """How a service other than installs verifies tokens: the installs service's JWKS and
    issuer from the settings, and the service's own install projection in ``pool``.
    ``jwks_transport`` lets tests serve the keys in-process."""
    jwks = JwksCache(settings.jwks_url, transport=jwks_transport)
    return TokenVerifier(jwks, issuer=settings.issuer, audience=audience, installs=InstallProjection(pool),
                         cache_size=cache_size)


_bearer = HTTPBearer(auto_error=False, scheme_name="token", description="An access token from the installs service.")


class Authenticator:
    """FastAPI dependencies for routes. ``verifier`` is looked up per request, so the app can
    be built before its runtime has connected. A verified token is then charged one request
    of its rate limit (``flint_chassis.http.ratelimit``) before its scopes are checked."""

    def __init__(self, verifier: Callable[[], TokenVerifier | None]) -> None:
        self._verifier = verifier

    def require(self, *scopes: str) -> Any:
        async def dependency(
            request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
        ) -> Principal:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise _unauthorized("missing bearer token")
            verifier = self._verifier()
            if verifier is None:
                raise Problem(SERVICE_UNAVAILABLE, "token verification is not ready yet", headers={"Retry-After": "1"})
            try:
                principal = await verifier.verify(credentials.credentials)
            except InvalidToken as error:
                raise _unauthorized(str(error)) from None
            note_subject(request.scope, principal.subject)  # for the access line
            charge(request.scope, principal.token_id)
            missing = principal.missing(scopes)
            if missing:
                raise Problem(
                    INSUFFICIENT_SCOPE, f"this call needs {' '.join(missing)}",
                    headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
                )
            request.state.principal = principal
            return principal

        return Depends(dependency)


def _unauthorized(reason: str) -> Problem:
    return Problem(
        INVALID_TOKEN, reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )
