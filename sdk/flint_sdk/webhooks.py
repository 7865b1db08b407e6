"""Webhook signatures: ``Flint-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``.

During secret rotation a delivery carries one ``v1`` per active secret; a plugin accepts the
delivery when any of them matches any secret it holds. The timestamp is signed too, so an
old delivery cannot be replayed outside the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable


class InvalidSignature(Exception):
    """The delivery is not from Flint, was altered, or is too old."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: Iterable[str], *, timestamp: int | None = None) -> str:
    """The ``Flint-Signature`` header value for ``body`` (what Flint sends)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={timestamp}"] + [f"v1={_digest(secret, timestamp, body)}" for secret in secrets]
    return ",".join(parts)


def verify(body: bytes, header: str, secrets: str | Iterable[str], *, tolerance: int = 300,
           now: float | None = None) -> int:
    """Check a delivery; returns its signed timestamp or raises :class:`InvalidSignature`.

    ``body`` must be the raw request bytes, before any JSON parsing.
    """
    secrets = [secrets] if isinstance(secrets, str) else list(secrets)
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature(f"timestamp {timestamp} is outside the {tolerance}s tolerance")
    for secret in secrets:
        expected = _digest(secret, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return timestamp
    raise InvalidSignature("no signature matches")


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("malformed Flint-Signature header")
    return timestamp, signatures
