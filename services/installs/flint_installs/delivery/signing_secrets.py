"""The secrets each delivery is signed with, read from the database at most once per
``ttl`` seconds per endpoint (every delivery of a busy endpoint would read and decrypt them
again otherwise).

The price is bounded: a rotation's new secret joins the signatures within ``ttl``; an old
secret stops signing at its ``expires_at`` exactly (checked on every use); and a delivery
claimed just before its endpoint was disabled or deleted, or its install uninstalled, may
still be sent within ``ttl``, like an attempt that was already on the wire (the claim itself
never picks such a delivery).
"""

from __future__ import annotations

import time
from datetime import datetime

import asyncpg

from flint_installs.delivery import repository
from flint_installs.delivery.model import Sealer

_MAX_ENTRIES = 10_000


class SigningSecrets:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer, *, ttl: float) -> None:
        self._pool = pool
        self._sealer = sealer
        self._ttl = ttl
        self._entries: dict[str, tuple[float, list[tuple[str, datetime | None]]]] = {}

    async def of(self, endpoint_id: str, *, now: datetime) -> tuple[str, ...]:
        """The endpoint's secrets that sign at ``now``, newest first; empty when it must not be
        sent to (disabled, deleted, uninstalled)."""
        entry = self._entries.get(endpoint_id)
        if entry is None or time.monotonic() - entry[0] >= self._ttl:
            async with self._pool.acquire() as conn:
                found = await repository.sending_secrets(conn, self._sealer, endpoint_id, now=now)
            entry = self._remember(endpoint_id, found)
        return tuple(secret for secret, expires_at in entry[1] if expires_at is None or expires_at > now)

    def _remember(self, endpoint_id: str, found: list[tuple[str, datetime | None]],
                  ) -> tuple[float, list[tuple[str, datetime | None]]]:
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()  # rare (that many endpoints busy within ttl): start over
        entry = self._entries[endpoint_id] = (time.monotonic(), found)
        return entry
