"""``Idempotency-Key`` for every create endpoint (PRODUCT.md, "Public HTTP API").

The first request with a key runs, and its response is stored in the same transaction as
what it created. A retry with the same key and the same request gets that response again
(``Idempotent-Replayed: true``), including a secret that is otherwise shown once: that is
what lets a client that lost the first answer recover it, so the stored response is
encrypted at rest. The same key with a different request is refused with 422. Requests with
the same key wait for each other (an advisory lock), so two concurrent retries create one
thing. Keys are kept ``idempotency_ttl`` (48 h by default, never less than 24 h).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from fastapi.encoders import jsonable_encoder

from flint_chassis.problems import Problem
from flint_installs import repository
from flint_installs.credentials import ServiceSecret

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

Action = Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool

    @property
    def headers(self) -> dict[str, str]:
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def request_fingerprint(method: str, path: str, body: Any) -> bytes:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).digest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(422, "Invalid Idempotency-Key", f"the key must be 1 to {MAX_KEY_LENGTH} printable characters",
                      type="https://flint.dev/problems/validation",
                      errors=[{"field": HEADER, "reason": "must be 1 to 255 printable characters"}])


async def run(
    pool: asyncpg.Pool, secret: ServiceSecret, *, owner: str, key: str | None, fingerprint: bytes,
    ttl: timedelta, action: Action,
) -> Outcome:
    """Run ``action`` in one transaction, once per (owner, key)."""
    async with pool.acquire() as conn, conn.transaction():
        if key is None:
            status, body = await action(conn)
            return Outcome(status, jsonable_encoder(body), replayed=False)
        _check_key(key)
        context = f"{owner}\n{key}".encode()
        await repository.lock_idempotency_key(conn, owner, key)
        now = datetime.now(UTC)
        stored = await repository.idempotent_response(conn, owner, key, now - ttl)
        if stored is not None:
            if not hmac.compare_digest(bytes(stored["request_hash"]), fingerprint):
                raise Problem(
                    422, "Idempotency-Key reused", "this Idempotency-Key was already used with a different request",
                    type="https://flint.dev/problems/idempotency-key-reused",
                    errors=[{"field": HEADER, "reason": "already used with a different request"}],
                )
            body = json.loads(secret.decrypt(bytes(stored["response"]), context=context))
            return Outcome(stored["status_code"], body, replayed=True)
        status, body = await action(conn)
        body = jsonable_encoder(body)
        sealed = secret.encrypt(json.dumps(body).encode(), context=context)
        await repository.store_idempotent_response(conn, owner, key, fingerprint, status, sealed, now)
        return Outcome(status, body, replayed=False)
