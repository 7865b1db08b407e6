"""Token verification with the signature check done once per token, and the install state
fetched together with the data a read needs.

Checking an Ed25519 signature and the claims costs more than the rest of a read request, and
a plugin sends the same token for up to 15 minutes. ``CachingTokenVerifier`` remembers the
claims of a token it verified until the token expires; every request still goes through the
chassis' install check (``TokenVerifier._principal``), so an uninstall or a narrower
re-install applies at once. Tokens are keyed by their full text, so a forged signature never
hits the cache.

``PrefetchingInstallProjection`` lets a read route fetch the install's state in the same SQL
statement as its data and hand it to that check, instead of a second round trip.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

import jwt

from flint_chassis.auth import InstallProjection, JwksCache, Principal, TokenVerifier

_PREFETCHED: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar("flint_install", default=None)


class PrefetchingInstallProjection(InstallProjection):
    """The chassis' install projection, answering from a row the caller already fetched."""

    async def get(self, install_id: str) -> Any:
        prefetched = _PREFETCHED.get()
        if prefetched is not None and prefetched[0] == install_id:
            return prefetched[1]
        return await super().get(install_id)

    @staticmethod
    @contextlib.contextmanager
    def prefetched(install_id: str | None, state: Any) -> Iterator[None]:
        """Within this block, ``get(install_id)`` answers ``state`` (a row with status and
        scopes, or None when the projection has no row for it)."""
        token = _PREFETCHED.set((install_id, state) if install_id else None)
        try:
            yield
        finally:
            _PREFETCHED.reset(token)


class CachingTokenVerifier(TokenVerifier):
    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str, installs: InstallProjection | None,
                 leeway: float = 5.0, max_tokens: int = 10_000) -> None:
        super().__init__(jwks, issuer=issuer, audience=audience, installs=installs, leeway=leeway)
        self._verified: dict[str, tuple[float, dict[str, Any]]] = {}
        self._max_tokens = max_tokens
        self._leeway_seconds = leeway

    async def verify(self, token: str) -> Principal:
        claims = self.verified_claims(token)
        if claims is not None:
            return await self._principal(claims)
        principal = await super().verify(token)  # signature, issuer, audience, expiry, install state
        self._remember(token)
        return principal

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this verifier accepted before and that has not expired yet;
        None otherwise (the token then needs the full check)."""
        hit = self._verified.get(token)
        if hit is None:
            return None
        expires, claims = hit
        if time.time() >= expires:
            del self._verified[token]
            return None
        return claims

    def _remember(self, token: str) -> None:
        claims = jwt.decode(token, options={"verify_signature": False})  # verified just now
        if len(self._verified) >= self._max_tokens:
            self._forget_expired()
        if len(self._verified) >= self._max_tokens:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (float(claims["exp"]) + self._leeway_seconds, claims)

    def _forget_expired(self) -> None:
        now = time.time()
        for token in [t for t, (expires, _) in self._verified.items() if expires <= now]:
            del self._verified[token]


__all__ = ["CachingTokenVerifier", "PrefetchingInstallProjection"]
