"""Prefixed, time-sortable identifiers: ``ord_01JD3Z6Q0G8V6M4X2K9T7B5N1R``.

The part after the prefix is a ULID (48-bit millisecond time + 80 random bits, Crockford
base32), so ids sort by creation time as plain strings. Within one process, ids made in
the same millisecond still sort in creation order.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PREFIXES: dict[str, str] = {
    "mer": "merchant",
    "ord": "order",
    "lin": "line item",
    "pay": "payment",
    "rfd": "refund",
    "inv": "invoice",
    "app": "app",
    "ins": "install",
    "evt": "event",
    "cmd": "command",
    "whe": "webhook endpoint",
    "dlv": "delivery",
    "not": "note",
}

# 26 base32 characters hold 130 bits; a ULID uses 128, so the first character is at most 7.
_ID_RE = re.compile(r"^(?P<prefix>[a-z]{3})_(?P<ulid>[0-7][0-9A-HJKMNP-TV-Z]{25})$")
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _forget_last_id() -> None:
    # A forked child inherits the parent's counter: without this, parent and child would
    # both increment the same random part within one millisecond and make the same id.
    global _last_ms, _last_random, _lock
    _lock = threading.Lock()
    _last_ms = -1
    _last_random = 0


os.register_at_fork(after_in_child=_forget_last_id)


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A new id with a registered prefix (see ``PREFIXES``)."""
    global _last_ms, _last_random
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_random = (_last_random + 1) & ((1 << 80) - 1)
        else:
            _last_ms = now_ms
            _last_random = int.from_bytes(os.urandom(10), "big") >> 1  # room to increment
        value = (now_ms << 80) | _last_random
    return f"{prefix}_{_encode(value, 26)}"


def id_pattern(prefix: str) -> str:
    """The regular expression ids of ``prefix`` match (for JSON schemas)."""
    return rf"^{prefix}_[0-7][0-9A-HJKMNP-TV-Z]{{25}}$"


def is_id(value: object, prefix: str) -> bool:
    """True when ``value`` is a well-formed id of the given prefix."""
    if not isinstance(value, str):
        return False
    match = _ID_RE.match(value)
    return bool(match) and match.group("prefix") == prefix


def id_time_ms(value: str) -> int:
    """Milliseconds since the epoch at which the id was made."""
    match = _ID_RE.match(value)
    if not match:
        raise ValueError(f"not a Flint id: {value!r}")
    number = 0
    for char in match.group("ulid")[:10]:
        number = number * 32 + _ALPHABET.index(char)
    return number
