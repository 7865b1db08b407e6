"""Secrets handed out, and the service's own secret.

Every secret Flint hands out is 256 random bits behind a prefix that says what it is
(``sk_`` merchant secret key, ``cs_`` client secret, ``rt_`` refresh token; codes have no
prefix on purpose, they only travel in redirects). They are stored as SHA-256 hashes: with
that much entropy a fast hash is as safe as a slow one, and a lookup by hash leaks nothing.

``ServiceSecret`` derives independent keys from ``FLINT_INSTALLS_SECRET`` (HKDF): one
encrypts data at rest (AES-256-GCM), one signs cookies and CSRF tokens (itsdangerous,
HMAC-SHA256; see sessions.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_LENGTH = 32


def new_secret(prefix: str = "") -> str:
    """A fresh 256-bit secret, URL-safe, with an optional ``prefix_``."""
    token = secrets.token_urlsafe(32)
    return f"{prefix}_{token}" if prefix else token


def hash_secret(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def same_secret(given: str, stored_hash: bytes) -> bool:
    """Constant-time check of ``given`` against a stored hash."""
    return hmac.compare_digest(hash_secret(given), stored_hash)


def same_text(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings (e.g. the admin key)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ServiceSecret:
    """Keys derived from the service's secret, each for one purpose."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"FLINT_INSTALLS_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        self._aead = AESGCM(self._derive(secret, b"flint-installs at-rest encryption"))
        self.browser_signing_key = self._derive(secret, b"flint-installs browser signatures")

    @staticmethod
    def _derive(secret: str, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """``nonce || ciphertext``; ``context`` is bound to it and must match on decryption."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, sealed: bytes, *, context: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)
