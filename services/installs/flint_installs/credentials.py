"""Secrets handed out.

Every secret Flint hands out is 256 random bits behind a prefix that says what it is
(``sk_`` merchant secret key, ``cs_`` client secret, ``rt_`` refresh token; codes have no
prefix on purpose, they only travel in redirects). They are stored as SHA-256 hashes: with
that much entropy a fast hash is as safe as a slow one, and a lookup by hash leaks nothing.
The service's own secret (``FLINT_INSTALLS_SECRET``) is the chassis' ``ServiceSecret``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


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
