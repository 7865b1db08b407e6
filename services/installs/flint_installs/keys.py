"""Ed25519 signing keys: created at first start, rotated, published as a JWKS.

Keys live in the service's database, so every replica signs with the same key and publishes
the same set; the private half is encrypted under FLINT_INSTALLS_SECRET. The newest key
signs. When it has signed for ``rotation`` seconds the next replica to sign creates a new
one (under an advisory lock, so replicas never race), and the old key is *retired*: it
signs nothing more but stays in the JWKS until every token it signed has expired.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from flint_chassis.auth import InvalidToken
from flint_installs import repository
from flint_chassis.service_secret import ServiceSecret, b64url

# Verifiers allow a few seconds of clock skew after `exp`; publish a little longer than that.
_PUBLISH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_jwk: dict[str, Any]
    private_key: Ed25519PrivateKey | None  # None when it cannot be decrypted (the secret changed)
    created_at: datetime
    retired_at: datetime | None

    @property
    def public_key(self) -> Ed25519PublicKey:
        return OKPAlgorithm.from_jwk(json.dumps(self.public_jwk))


def public_jwk(public: Ed25519PublicKey) -> dict[str, Any]:
    """The OKP JWK of a public key; ``kid`` is its RFC 7638 thumbprint."""
    x = b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    thumbprint = b64url(hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x},
                                                  separators=(",", ":"), sort_keys=True).encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "use": "sig", "alg": "EdDSA"}


class KeyRing:
    """This replica's view of the signing keys, reread from the database every few seconds."""

    def __init__(self, pool: asyncpg.Pool, secret: ServiceSecret, *, rotation: timedelta, token_ttl: timedelta,
                 cache_seconds: float = 30.0) -> None:
        self._pool = pool
        self._secret = secret
        self._rotation = rotation
        self._token_ttl = token_ttl
        self._cache_seconds = cache_seconds
        self._keys: list[SigningKey] = []
        self._loaded_at = float("-inf")

    async def signing_key(self) -> SigningKey:
        """The key to sign with now, creating or rotating it when due."""
        await self._reload_if_stale()
        now = datetime.now(UTC)
        current = self._current()
        if current is None or now - current.created_at >= self._rotation:
            await self.rotate(only_if_due=True)
            current = self._current()
        assert current is not None and current.private_key is not None
        return current

    async def rotate(self, *, only_if_due: bool = False) -> SigningKey:
        """Create a new signing key; the previous one is retired (and stays published)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_signing_keys(conn)
            keys = self._decode(await repository.signing_keys(conn))
            current = _newest_usable(keys)
            now = datetime.now(UTC)
            if only_if_due and current is not None and now - current.created_at < self._rotation:
                self._keys, self._loaded_at = keys, time.monotonic()
                return current
            private = Ed25519PrivateKey.generate()
            jwk = public_jwk(private.public_key())
            raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
            sealed = self._secret.encrypt(raw, context=jwk["kid"].encode())
            await repository.add_signing_key(conn, jwk["kid"], jwk, sealed, now)
            keys = self._decode(await repository.signing_keys(conn))
        self._keys, self._loaded_at = keys, time.monotonic()
        return _newest_usable(keys)

    async def published(self) -> list[dict[str, Any]]:
        """Public JWKs of every key whose tokens may still be valid, newest first."""
        await self._reload_if_stale()
        now = datetime.now(UTC)
        horizon = self._token_ttl + _PUBLISH_MARGIN
        return [k.public_jwk for k in reversed(self._keys) if k.retired_at is None or k.retired_at + horizon > now]

    async def key(self, kid: str) -> Ed25519PublicKey:
        """The public key of ``kid`` (the ``JwksCache.key`` interface the chassis verifier uses)."""
        for _ in range(2):
            published = {jwk["kid"] for jwk in await self.published()}
            for key in self._keys:
                if key.kid == kid and kid in published:
                    return key.public_key
            self._loaded_at = float("-inf")  # another replica may have rotated: look once more
        raise InvalidToken("token signed by an unknown key")

    async def _reload_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at < self._cache_seconds:
            return
        async with self._pool.acquire() as conn:
            self._keys = self._decode(await repository.signing_keys(conn))
        self._loaded_at = time.monotonic()

    def _current(self) -> SigningKey | None:
        return _newest_usable(self._keys)

    def _decode(self, rows: list[dict[str, Any]]) -> list[SigningKey]:
        keys = []
        for row in rows:
            try:
                raw = self._secret.decrypt(row["private_key"], context=row["kid"].encode())
                private = Ed25519PrivateKey.from_private_bytes(raw)
            except Exception:  # cryptography raises InvalidTag: sealed under another secret
                private = None
            keys.append(SigningKey(kid=row["kid"], public_jwk=row["public_jwk"], private_key=private,
                                   created_at=row["created_at"], retired_at=row["retired_at"]))
        return keys


def _newest_usable(keys: list[SigningKey]) -> SigningKey | None:
    """The newest key this replica can sign with; a key sealed under an older secret is skipped
    (its public half stays published until it is retired long enough)."""
    for key in reversed(keys):
        if key.retired_at is None and key.private_key is not None:
            return key
    return None
