"""Prefixed, time-sortable identifiers: ``ord_01JD3Z6Q0G8V6M4X2K9T7B5N1R``.

The part after the prefix is a ULID (48-bit millisecond time + 80 random bits, Crockford
base32), so ids sort by creation time as plain strings. Within one process, ids made in the
same millisecond still sort in creation order (the random part counts up by one, as
python-ulid's strict monotonic policy does), and so do ids made while the wall clock steps
back. Ids are made here rather than by python-ulid: every write makes several, and this
costs a third as much.
"""

from __future__ import annotations

import os
import re
import threading
import time

from ulid import ULID

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


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)  # each 10-bit value as two characters
_SHIFTS = tuple(range(120, -1, -10))  # 13 pairs: 130 bits, of which the top two are always 0


class _Generator:
    """Monotonic ULIDs. The millisecond never goes backwards: if the wall clock steps back,
    ids keep the last millisecond and count up within it instead of sorting before older ids."""

    def __init__(self) -> None:
        self._ms = -1
        self._random = 0

    def generate(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms > self._ms:
            self._ms, self._random = ms, int.from_bytes(os.urandom(10), "big")
        else:
            self._random += 1
            if self._random >> 80:  # 2^80 ids within one millisecond: go on in the next one
                self._ms, self._random = self._ms + 1, int.from_bytes(os.urandom(10), "big")
        value = self._ms << 80 | self._random
        return "".join([_PAIRS[value >> shift & 0x3FF] for shift in _SHIFTS])


def _new_generator() -> _Generator:
    return _Generator()


_generator = _new_generator()
# Held around the clock read too, so two threads can never take their timestamps in one order
# and their ids in the other.
_lock = threading.Lock()


def _forget_last_id() -> None:
    # A forked child inherits the parent's generator: without this, parent and child would
    # both count up from the same id within one millisecond and make the same id.
    global _generator, _lock
    _generator, _lock = _new_generator(), threading.Lock()


os.register_at_fork(after_in_child=_forget_last_id)


def new_id(prefix: str) -> str:
    """A new id with a registered prefix (see ``PREFIXES``)."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    with _lock:
        return f"{prefix}_{_generator.generate()}"


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
    return ULID.from_str(match.group("ulid")).milliseconds
