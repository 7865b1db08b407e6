"""The webhook signature scheme, in the one place Flint's sender and the SDK's verifier share.

A delivery carries ``Flint-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``. The HMAC key
is the endpoint secret (``whsec_…``, UTF-8) and the message is ``"<t>.<raw body>"``, so the
timestamp is signed too and an old delivery cannot be replayed outside the tolerance window.
During secret rotation a delivery carries one ``v1`` per active secret; a receiver accepts it
when any ``v1`` matches any secret it holds.

Parsing is strict about what it uses and lenient about what it does not know: exactly one
``t`` of ASCII digits, ``v1`` values of 64 hex digits, other keys (a future ``v2``) ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _random
import time
from collections.abc import Iterable

from flint_contracts.limits import MAX_SIGNATURE_HEADER_LENGTH

SIGNATURE_HEADER = "Flint-Signature"
"""The signature: ``t=<unix seconds>,v1=<hex>[,v1=<hex>…]``."""
EVENT_ID_HEADER = "Flint-Event-Id"
"""The event's id (``evt_…``): the same on every retry and on every endpoint; dedupe by it."""
DELIVERY_ID_HEADER = "Flint-Delivery-Id"
"""The delivery's id (``dlv_…``): one event to one endpoint, the same on every retry of it."""
EVENT_TYPE_HEADER = "Flint-Event-Type"
"""The event's type (``order.paid``), so a receiver can route before parsing the body."""

DEFAULT_TOLERANCE = 300
"""Seconds a signed timestamp may differ from the receiver's clock."""
SECRET_PREFIX = "whsec_"
SECRET_RANDOM_BYTES = 32
"""Random bytes behind the prefix of every endpoint secret Flint creates (256 bits)."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also accepts "²"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class InvalidSignature(Exception):
    """The delivery is not from Flint, was altered, or is too old."""


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + 32 random bytes, base64url."""
    return SECRET_PREFIX + _random.token_urlsafe(SECRET_RANDOM_BYTES)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret`` (one ``v1`` value)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secrets: Iterable[str], *, timestamp: int | None = None) -> str:
    """The ``Flint-Signature`` header value for ``body``: one ``v1`` per secret, in the given order."""
    keys = _secret_list(secrets)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={timestamp}"] + [f"v1={signature(key, timestamp, body)}" for key in keys])


def verify(body: bytes, header: str, secrets: str | Iterable[str], *, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> int:
    """Check a delivery; returns its signed timestamp or raises :class:`InvalidSignature`.

    ``body`` must be the raw request bytes, before any JSON parsing. Every signature is
    compared with every secret in constant time, without stopping at the first match, so the
    time taken says nothing about which secret or signature matched.
    """
    keys = _secret_list(secrets)
    timestamp, candidates = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature(f"timestamp {timestamp} is outside the {tolerance}s tolerance")
    matched = False
    for key in keys:
        expected = signature(key, timestamp, body)
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignature("no signature matches")
    return timestamp


def parse_header(header: str) -> tuple[int, list[str]]:
    """``(timestamp, v1 signatures)`` of a ``Flint-Signature`` value, or :class:`InvalidSignature`."""
    if not isinstance(header, str) or len(header) > MAX_SIGNATURE_HEADER_LENGTH:
        raise InvalidSignature("malformed Flint-Signature header: missing or too long")
    timestamps: list[int] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            if not _TIMESTAMP.fullmatch(value):
                raise InvalidSignature("malformed Flint-Signature header: t is not a unix timestamp")
            timestamps.append(int(value))
        elif key == "v1" and _HEX_DIGEST.fullmatch(value):
            candidates.append(value.lower())
    if len(timestamps) != 1:
        raise InvalidSignature("malformed Flint-Signature header: it needs exactly one t")
    if not candidates:
        raise InvalidSignature("malformed Flint-Signature header: no v1 signature")
    return timestamps[0], candidates


def _secret_list(secrets: str | Iterable[str]) -> list[str]:
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys or not all(isinstance(key, str) and key for key in keys):
        raise ValueError("at least one non-empty secret is needed")
    return keys
