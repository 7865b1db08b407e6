"""Access tokens exactly as docs/auth.md describes them: EdDSA JWTs with ``kid``, and the
verifier this service uses for its own API (the chassis ``TokenVerifier``, fed from the
installs table itself instead of a projection, so an uninstall is refused here at once)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt

from flint_chassis.auth import InvalidToken, Principal, TokenVerifier
from flint_contracts.literals import AUDIENCES, INSTALLS_AUDIENCE
from flint_installs import repository
from flint_installs.keys import KeyRing


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int
    scopes: tuple[str, ...]


class TokenIssuer:
    def __init__(self, keys: KeyRing, *, issuer: str, ttl: timedelta) -> None:
        self._keys = keys
        self._issuer = issuer
        self._ttl = ttl

    async def issue(
        self, *, merchant_id: str, scopes: Sequence[str], app_id: str | None = None, install_id: str | None = None
    ) -> IssuedToken:
        """An app token when ``install_id`` is given, else a merchant's own token."""
        key = await self._keys.signing_key()
        now = datetime.now(UTC)
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "sub": install_id or merchant_id,
            "aud": list(AUDIENCES),
            "merchant_id": merchant_id,
            "app_id": app_id,
            "install_id": install_id,
            "scope": " ".join(scopes),
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": jti,
        }
        token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid, "typ": "JWT"})
        return IssuedToken(token=token, jti=jti, expires_in=int(self._ttl.total_seconds()), scopes=tuple(scopes))


class InstallTable:
    """The ``InstallProjection.get`` interface, answered from the authoritative installs table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, install_id: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow("SELECT status, scopes FROM installs WHERE id = $1", install_id)


class LocalVerifier(TokenVerifier):
    """The chassis verifier with this service's key ring, install table and revocation list.

    An install this service does not know is refused too: here the table is the truth,
    not a projection that may lag.
    """

    def __init__(self, keys: KeyRing, pool: asyncpg.Pool, *, issuer: str) -> None:
        super().__init__(keys, issuer=issuer, audience=INSTALLS_AUDIENCE, installs=InstallTable(pool))  # type: ignore[arg-type]
        self._pool = pool
        self._keyring = keys
        self._issuer_url = issuer

    async def verify(self, token: str) -> Principal:
        principal = await super().verify(token)
        async with self._pool.acquire() as conn:
            if principal.install_id and await repository.get_install(conn, principal.install_id) is None:
                raise InvalidToken("unknown install")
            if await repository.access_token_revoked(conn, principal.token_id):
                raise InvalidToken("token revoked")
        return principal

    async def claims_if_ours(self, token: str) -> dict | None:
        """The claims of a token this service signed (expired or not), or None."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = await self._keyring.key(kid) if kid else None
            if key is None:
                return None
            return jwt.decode(token, key, algorithms=["EdDSA"], issuer=self._issuer_url,
                              options={"verify_exp": False, "verify_aud": False})
        except (jwt.PyJWTError, InvalidToken):
            return None
