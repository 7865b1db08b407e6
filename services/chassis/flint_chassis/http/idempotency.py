"""``Idempotency-Key`` for every create endpoint of every service, in one place.

A route hands its work to ``Idempotency.run`` as an action on a connection; the action runs
in one transaction, and with a key:

- the key is claimed first, in that transaction: an ``INSERT`` into
  ``flint_idempotency_keys`` keyed by (caller, key);
- a request with the same key that is still running holds that row, so a concurrent one
  waits on it. When the first commits, the second finds its response and replays it; when
  the first fails (and rolls back, storing nothing), the second runs as if it were first.
  Two concurrent requests with one key therefore create one thing;
- the response (status, ``Content-Type`` and ``Location``, body bytes) is stored in the same
  transaction as what the action created, and a retry with the same key and the same
  request gets exactly those bytes again with ``Idempotent-Replayed: true``;
- the same key with another request (method, path or body; bodies compared as canonical
  JSON, so key order and spacing do not matter) is a 422 ``idempotency_key_reused``;
- a request that fails (4xx) stores nothing: the key can be used again with a fixed body;
- keys live ``idempotency_ttl_hours`` (48 by default, at least 24), then are purged;
- ``sealed=True`` encrypts the stored body (AES-GCM under the service's secret, bound to
  the caller and key): for responses that show a secret once, like a new client secret;
- ``after_commit(response)`` runs once the action's transaction has committed and may
  answer with a later state of what it created (a refund run on the payment processor right
  after it was stored); with a key, that answer replaces the stored one, so a replay returns
  exactly what the first request answered. Until then a replay returns the committed answer.

Without a key the action just runs in its transaction: no extra round trip; or, for an
action whose write is one statement (``transaction=False``), outside any.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
import orjson
from fastapi import Header, Request
from starlette.responses import Response

from flint_chassis.http.body import NO_BODY, parsed_json
from flint_chassis.problems import IDEMPOTENCY_KEY_REUSED, SERVICE_UNAVAILABLE, Problem, invalid
from flint_chassis.service_secret import ServiceSecret
from flint_contracts.limits import MAX_IDEMPOTENCY_KEY_LENGTH

log = logging.getLogger("flint.http.idempotency")

HEADER = "Idempotency-Key"
PURGE_INTERVAL = 3600.0
REPLAYED = "Idempotent-Replayed"

IdempotencyKey = Annotated[str | None, Header(
    alias=HEADER, min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LENGTH, pattern=r"^[\x20-\x7e]+$",
    description="Retry safely: the same key and request within 48 hours (at least 24) replay the first response "
                "(`Idempotent-Replayed: true`); the same key with another request is a 422 "
                "`idempotency_key_reused`. Printable ASCII, 1 to 255 characters.",
)]

Action = Callable[[asyncpg.Connection], Awaitable[Response]]
AfterCommit = Callable[[Response], Awaitable[Response]]
_KEPT_HEADERS = ("content-type", "location")

_CLAIM = """
INSERT INTO flint_idempotency_keys AS k (caller, key, fingerprint, expires_at)
VALUES ($1, $2, $3, now() + make_interval(hours => $4))
ON CONFLICT (caller, key) DO UPDATE
   SET fingerprint = EXCLUDED.fingerprint, expires_at = EXCLUDED.expires_at, created_at = now(),
       status_code = NULL, headers = NULL, body = NULL, sealed = false
 WHERE k.expires_at <= now()
RETURNING 1
"""
_STORED = "SELECT fingerprint, status_code, headers::text AS headers, body, sealed FROM flint_idempotency_keys " \
          "WHERE caller = $1 AND key = $2"
_STORE = "UPDATE flint_idempotency_keys SET status_code = $3, headers = $4::jsonb, body = $5, sealed = $6 " \
         "WHERE caller = $1 AND key = $2"
_PURGE = "DELETE FROM flint_idempotency_keys WHERE expires_at < now()"


def fingerprint(request: Request) -> bytes:
    """The request as the key remembers it: method, path and the body as canonical JSON."""
    document = parsed_json(request.scope)
    body = b"" if document is NO_BODY else orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{request.method}\n{request.url.path}\n".encode() + body).digest()


class Idempotency:
    def __init__(self, pool: Callable[[], asyncpg.Pool | None], secret: Callable[[], ServiceSecret | None],
                 ttl_hours: int) -> None:
        self._pool = pool
        self._secret = secret
        self.ttl_hours = ttl_hours
        self._purged_at = time.monotonic()
        self._purging: asyncio.Task[None] | None = None

    async def run(self, request: Request, *, caller: str, key: str | None, action: Action,
                  sealed: bool = False, after_commit: AfterCommit | None = None,
                  transaction: bool = True) -> Response:
        """Runs ``action`` in a transaction, once per (caller, key); then ``after_commit``,
        whose answer is the request's (and, with a key, the one replays return).

        ``transaction=False`` is for an action that makes its writes atomic by itself (one
        statement, or a transaction it opens): without a key it then runs on a connection
        outside any transaction, two round trips (``BEGIN``, ``COMMIT``) fewer."""
        pool = self._pool()
        if pool is None:
            raise Problem(SERVICE_UNAVAILABLE, "the service is starting", headers={"Retry-After": "1"})
        async with pool.acquire() as conn:
            if key is None and not transaction:
                response = await action(conn)
            else:
                async with conn.transaction():
                    if key is None:
                        response = await action(conn)
                    else:
                        claimed = fingerprint(request)
                        self._purge_when_due(pool)
                        if await conn.fetchval(_CLAIM, caller, key, claimed, self.ttl_hours) is None:
                            return self._replay(await conn.fetchrow(_STORED, caller, key), caller, key, claimed)
                        response = await action(conn)
                        await self._store(conn, caller, key, response, sealed)
        if after_commit is None:
            return response
        final = await after_commit(response)
        if key is not None and final is not response:
            await self._store(pool, caller, key, final, sealed)
        return final

    async def _store(self, conn: asyncpg.Connection | asyncpg.Pool, caller: str, key: str, response: Response,
                     sealed: bool) -> None:
        headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
        body = bytes(response.body)
        if sealed:
            body = self._sealing_secret().encrypt(body, context=_context(caller, key))
        await conn.execute(_STORE, caller, key, response.status_code, orjson.dumps(headers).decode(), body, sealed)

    def _replay(self, stored: asyncpg.Record, caller: str, key: str, claimed: bytes) -> Response:
        if not hmac.compare_digest(bytes(stored["fingerprint"]), claimed):
            raise invalid(HEADER, "idempotency_key_reused", "was used before with another request",
                          kind=IDEMPOTENCY_KEY_REUSED)
        body = bytes(stored["body"])
        if stored["sealed"]:
            body = self._sealing_secret().decrypt(body, context=_context(caller, key))
        headers = {**orjson.loads(stored["headers"]), REPLAYED: "true"}
        return Response(body, status_code=stored["status_code"], headers=headers)

    def _sealing_secret(self) -> ServiceSecret:
        secret = self._secret()
        if secret is None:
            raise RuntimeError("sealed idempotent responses need the service's secret")
        return secret

    def _purge_when_due(self, pool: asyncpg.Pool) -> None:
        # Expired keys are forgotten by the requests that make new ones, at most hourly per
        # process, in the background: no service has to run a loop for it.
        if time.monotonic() - self._purged_at < PURGE_INTERVAL or self._purging is not None:
            return
        self._purged_at = time.monotonic()
        self._purging = asyncio.create_task(self._purge(pool), name="idempotency-purge")

    async def _purge(self, pool: asyncpg.Pool) -> None:
        try:
            await self.purge_expired(pool)
        except Exception as error:  # the next due purge tries again
            log.warning("purging expired idempotency keys failed: %s", error)
        finally:
            self._purging = None

    @staticmethod
    async def purge_expired(pool: asyncpg.Pool) -> str:
        """Forgets keys past their time; returns the command tag (``DELETE n``)."""
        return await pool.execute(_PURGE)


def _context(caller: str, key: str) -> bytes:
    return f"{caller}\n{key}".encode()


