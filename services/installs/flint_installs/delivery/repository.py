"""SQL of webhook delivery (tables of migration 0003) and its row mapping. Every function
takes the connection of the caller's unit of work; times are passed in, never read from the
database clock, so one clock (the worker's) decides what is due."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from flint_installs.delivery.model import (
    GIVEN_UP,
    PENDING,
    ClaimedDelivery,
    DeliveryRecord,
    NewDelivery,
    RecordedAttempt,
    Sealer,
    WebhookEndpoint,
)
from flint_installs.delivery.outcome import AttemptResult

# ---------------------------------------------------------------- endpoints
_ENDPOINT_COLUMNS = "id, install_id, url, status, created_at, updated_at, failing_since, disabled_at, disabled_reason"
_INSERT_ENDPOINT = f"""
INSERT INTO webhook_endpoints ({_ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_ENDPOINT_BY_ID = f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
_DISABLE_ENDPOINT = """
UPDATE webhook_endpoints SET status = 'disabled', disabled_at = $2, disabled_reason = $3, updated_at = $2
WHERE id = $1 AND status = 'enabled'
"""
_ENABLE_ENDPOINT = """
UPDATE webhook_endpoints
SET status = 'enabled', disabled_at = NULL, disabled_reason = NULL, failing_since = NULL, updated_at = $2
WHERE id = $1 AND status = 'disabled'
"""


_ENDPOINTS_OF_INSTALL = f"""
SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints
WHERE install_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3
"""
_COUNT_ENDPOINTS_OF_INSTALL = "SELECT count(*) FROM webhook_endpoints WHERE install_id = $1"
_LOCK_INSTALL_ENDPOINTS = "SELECT pg_advisory_xact_lock(hashtextextended('flint_installs:endpoints:' || $1, 0))"
_DELETE_ENDPOINT = "DELETE FROM webhook_endpoints WHERE id = $1"


async def add_endpoint(conn: asyncpg.Connection, endpoint: WebhookEndpoint) -> None:
    await conn.execute(_INSERT_ENDPOINT, endpoint.id, endpoint.install_id, endpoint.url, endpoint.status,
                       endpoint.created_at, endpoint.updated_at, endpoint.failing_since, endpoint.disabled_at,
                       endpoint.disabled_reason)


async def get_endpoint(conn: asyncpg.Connection, endpoint_id: str) -> WebhookEndpoint | None:
    row = await conn.fetchrow(_ENDPOINT_BY_ID, endpoint_id)
    return WebhookEndpoint(**row) if row else None


async def endpoints_of(conn: asyncpg.Connection, install_id: str, *, after: str | None,
                       limit: int) -> list[WebhookEndpoint]:
    """A page of the install's endpoints, by id."""
    return [WebhookEndpoint(**row) for row in await conn.fetch(_ENDPOINTS_OF_INSTALL, install_id, after, limit)]


async def count_endpoints_locked(conn: asyncpg.Connection, install_id: str) -> int:
    """How many endpoints the install has, with creation of others held until the caller
    commits (so two concurrent creations cannot both pass a limit)."""
    await conn.execute(_LOCK_INSTALL_ENDPOINTS, install_id)
    return await conn.fetchval(_COUNT_ENDPOINTS_OF_INSTALL, install_id)


async def delete_endpoint(conn: asyncpg.Connection, endpoint_id: str) -> bool:
    """Delete the endpoint with its secrets, deliveries and their log."""
    return await conn.execute(_DELETE_ENDPOINT, endpoint_id) == "DELETE 1"


async def disable_endpoint(conn: asyncpg.Connection, endpoint_id: str, *, now: datetime, reason: str) -> bool:
    """Stop claiming the endpoint's deliveries (they stay pending); False if it was not enabled."""
    return await conn.execute(_DISABLE_ENDPOINT, endpoint_id, now, reason) == "UPDATE 1"


async def enable_endpoint(conn: asyncpg.Connection, endpoint_id: str, *, now: datetime) -> bool:
    """Claim its pending deliveries again, with a clean failure record; False if it was not disabled."""
    return await conn.execute(_ENABLE_ENDPOINT, endpoint_id, now) == "UPDATE 1"


# ---------------------------------------------------------------- secrets
_EXPIRE_SECRETS = """
UPDATE webhook_endpoint_secrets SET expires_at = $2
WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2)
"""
_INSERT_SECRET = """
INSERT INTO webhook_endpoint_secrets (endpoint_id, version, sealed, hint, created_at)
VALUES ($1, $2, $3, $4, $5)
"""
_NEXT_SECRET_VERSION = """
SELECT coalesce(max(version), 0) + 1 FROM webhook_endpoint_secrets WHERE endpoint_id = $1
"""
_ACTIVE_SECRETS = """
SELECT version, sealed FROM webhook_endpoint_secrets
WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2)
ORDER BY version DESC
"""


_SENDING_SECRETS = """
SELECT s.version, s.sealed, s.expires_at
FROM webhook_endpoints e
JOIN installs i ON i.id = e.install_id AND i.status = 'active'
JOIN webhook_endpoint_secrets s ON s.endpoint_id = e.id AND (s.expires_at IS NULL OR s.expires_at > $2)
WHERE e.id = $1 AND e.status = 'enabled'
ORDER BY s.version DESC
"""


def _secret_context(endpoint_id: str, version: int) -> bytes:
    # Binds each ciphertext to its row: a sealed secret copied to another endpoint does not open.
    return f"webhook-secret:{endpoint_id}:{version}".encode()


async def add_secret(conn: asyncpg.Connection, sealer: Sealer, endpoint_id: str, secret: str, *, now: datetime,
                     previous_expire_at: datetime | None = None) -> int:
    """Store ``secret`` (encrypted) as the endpoint's newest signing secret; returns its version.

    For a rotation, ``previous_expire_at`` is when the secrets signing until now stop signing
    (``now`` to stop at once); until then every delivery carries a signature of each.
    """
    if previous_expire_at is not None:
        await conn.execute(_EXPIRE_SECRETS, endpoint_id, previous_expire_at)
    version = await conn.fetchval(_NEXT_SECRET_VERSION, endpoint_id)
    sealed = sealer.encrypt(secret.encode(), context=_secret_context(endpoint_id, version))
    await conn.execute(_INSERT_SECRET, endpoint_id, version, sealed, secret[-4:], now)
    return version


async def active_secrets(conn: asyncpg.Connection, sealer: Sealer, endpoint_id: str, *, now: datetime) -> list[str]:
    """The secrets that sign a delivery sent at ``now``, newest first."""
    rows = await conn.fetch(_ACTIVE_SECRETS, endpoint_id, now)
    return [sealer.decrypt(row["sealed"], context=_secret_context(endpoint_id, row["version"])).decode()
            for row in rows]


async def sending_secrets(conn: asyncpg.Connection, sealer: Sealer, endpoint_id: str, *,
                          now: datetime) -> list[tuple[str, datetime | None]]:
    """The secrets that sign a delivery sent at ``now`` with when each stops signing, newest
    first; none when the endpoint is no longer enabled, was deleted, or its install was
    uninstalled (then nothing is sent)."""
    rows = await conn.fetch(_SENDING_SECRETS, endpoint_id, now)
    return [(sealer.decrypt(row["sealed"], context=_secret_context(endpoint_id, row["version"])).decode(),
             row["expires_at"]) for row in rows]


# ---------------------------------------------------------------- deliveries
WAKE_CHANNEL = "flint_webhooks"
"""NOTIFY channel the webhook sender listens on: deliveries may be due now."""
_WAKE = "SELECT pg_notify($1, '')"


async def wake_sender(conn: asyncpg.Connection) -> None:
    """Wake the webhook sender when the caller's transaction commits (a delivery was queued,
    an endpoint re-enabled, a retry asked for)."""
    await conn.execute(_WAKE, WAKE_CHANNEL)


_INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, ordering_key, body, status,
                                next_attempt_at, created_at, traceparent)
VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, $8)
ON CONFLICT (endpoint_id, event_id) DO NOTHING
"""

# The per-order rule: a delivery is claimable only when no older pending delivery of the same
# endpoint and ordering key exists (and its endpoint is enabled and its install active: an
# uninstall stops webhook delivery at once), so one order's events go out one at a time and in order,
# while a slow or failing order does not hold up the endpoint's other orders. SKIP LOCKED lets
# workers claim side by side; the claim moves next_attempt_at past the lease, which both hides
# the delivery from other workers after commit and brings it back if this worker dies.
_CLAIM_DUE = """
WITH due AS (
    SELECT d.id
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
    JOIN installs i ON i.id = e.install_id AND i.status = 'active'
    WHERE d.status = 'pending'
      AND d.next_attempt_at <= $1
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries earlier
          WHERE earlier.endpoint_id = d.endpoint_id
            AND earlier.ordering_key = d.ordering_key
            AND earlier.status = 'pending'
            AND earlier.position < d.position)
    ORDER BY d.next_attempt_at, d.position
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = $2
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.event_id, d.event_type, d.ordering_key, d.position, d.body, d.attempts,
          d.created_at, e.url, d.traceparent
"""
_RECORD_ATTEMPT = """
INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, latency_ms, outcome, reason, detail,
                                       status_code, response_snippet)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_AFTER_ATTEMPT = """
UPDATE webhook_deliveries
SET attempts = attempts + 1, status = $2, next_attempt_at = coalesce($3, next_attempt_at),
    finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4::timestamptz END
WHERE id = $1
RETURNING attempts
"""
# A success is one statement (atomic on its own, one round trip): the delivery, its attempt,
# and the endpoint's failure record, written only when there is one to clear, so concurrent
# successes of one endpoint never queue on its row.
_RECORD_DELIVERED = """
WITH delivered AS (
    UPDATE webhook_deliveries SET attempts = attempts + 1, status = 'delivered', finished_at = $2
    WHERE id = $1
    RETURNING id, attempts, endpoint_id
), logged AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, number, started_at, latency_ms, outcome, reason, detail,
                                           status_code, response_snippet)
    SELECT id, attempts, $3, $4, 'delivered', NULL, '', $5, $6 FROM delivered
), healthy AS (
    UPDATE webhook_endpoints e SET failing_since = NULL
    FROM delivered WHERE e.id = delivered.endpoint_id AND e.failing_since IS NOT NULL
)
SELECT count(*) FROM delivered
"""
_ENDPOINT_FAILED = """
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1 RETURNING failing_since
"""
_RETRY_NOW = """
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, finished_at = NULL WHERE id = $1
"""
_ATTEMPTS = """
SELECT delivery_id, number, started_at, latency_ms, outcome, reason, detail, status_code, response_snippet
FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY number
"""
_DELIVERY_STATUS = "SELECT status, attempts, next_attempt_at FROM webhook_deliveries WHERE id = $1"


async def add_delivery(conn: asyncpg.Connection, delivery: NewDelivery) -> bool:
    """Queue ``delivery`` behind the earlier ones of its order; False when this event was
    already queued for this endpoint (a redelivered event is not sent twice)."""
    status = await conn.execute(_INSERT_DELIVERY, delivery.id, delivery.endpoint_id, delivery.event_id,
                                delivery.event_type, delivery.ordering_key, delivery.body, delivery.created_at,
                                delivery.traceparent)
    return status == "INSERT 0 1"


# The plan that stops early: walk due deliveries in order through their index, look up each
# one's earlier pending deliveries through the queue index, stop at the limit. Left to itself
# the planner hashes the whole table (every body included) on every claim during a backlog.
_EARLY_STOPPING_PLAN = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_sort = off"


async def claim_due(conn: asyncpg.Connection, *, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
    """Reserve up to ``limit`` due deliveries (each the oldest pending one of its order) for
    ``lease``. Run it in a transaction of its own and commit before sending."""
    await conn.execute(_EARLY_STOPPING_PLAN)
    rows = await conn.fetch(_CLAIM_DUE, now, now + lease, limit)
    return sorted((ClaimedDelivery(**row) for row in rows), key=lambda claimed: claimed.position)


async def record_attempt(conn: asyncpg.Connection, claimed: ClaimedDelivery, result: AttemptResult, *,
                         retry_at: datetime | None, now: datetime) -> datetime | None:
    """Log the attempt and move the delivery on: delivered, pending until ``retry_at``, or
    given up (a failure with no ``retry_at``). Returns since when (the ``now`` of its first
    failure) the endpoint has been failing without a success, None after a success: the
    input of the disable rule. A delivery deleted meanwhile (its endpoint was deleted) is not
    recorded, and None is returned."""
    if result.delivered:  # needs no transaction of the caller's: it is one statement
        await conn.fetchval(_RECORD_DELIVERED, claimed.id, now, result.started_at, result.latency_ms,
                            result.status_code, result.response_snippet)
        return None
    status = PENDING if retry_at is not None else GIVEN_UP
    number = await conn.fetchval(_AFTER_ATTEMPT, claimed.id, status, retry_at, now)
    if number is None:
        return None
    await conn.execute(_RECORD_ATTEMPT, claimed.id, number, result.started_at, result.latency_ms, "failed",
                       result.reason.value if result.reason else None, result.detail, result.status_code,
                       result.response_snippet)
    return await conn.fetchval(_ENDPOINT_FAILED, claimed.endpoint_id, now)


async def retry_now(conn: asyncpg.Connection, delivery_id: str, *, now: datetime) -> bool:
    """Make a delivery due at once, whatever its state (a retry by hand); it still waits for
    older pending deliveries of its order. False when there is no such delivery."""
    return await conn.execute(_RETRY_NOW, delivery_id, now) == "UPDATE 1"


_FAILURE_RUN = """
WITH attempts AS (
    SELECT a.delivery_id, a.started_at, a.outcome, a.detail
    FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
    WHERE d.endpoint_id = $1
), last_success AS (
    SELECT max(started_at) AS at FROM attempts WHERE outcome = 'delivered'
)
SELECT count(*) AS failed, (array_agg(delivery_id ORDER BY started_at DESC))[1] AS last_delivery_id,
       (array_agg(detail ORDER BY started_at DESC))[1] AS last_detail
FROM attempts, last_success
WHERE outcome = 'failed' AND (last_success.at IS NULL OR started_at > last_success.at)
"""


async def failure_run(conn: asyncpg.Connection, endpoint_id: str) -> tuple[int, str | None, str]:
    """The endpoint's failures since its last success: ``(failed attempts, the last failed
    delivery's id, that attempt's detail)``."""
    row = await conn.fetchrow(_FAILURE_RUN, endpoint_id)
    return row["failed"], row["last_delivery_id"], row["last_detail"] or ""


async def attempts(conn: asyncpg.Connection, delivery_id: str) -> list[RecordedAttempt]:
    """Every attempt of a delivery, first to last."""
    return [RecordedAttempt(**row) for row in await conn.fetch(_ATTEMPTS, delivery_id)]


async def delivery_status(conn: asyncpg.Connection, delivery_id: str) -> tuple[str, int, datetime] | None:
    """``(status, attempts, next_attempt_at)`` of a delivery."""
    row = await conn.fetchrow(_DELIVERY_STATUS, delivery_id)
    return (row["status"], row["attempts"], row["next_attempt_at"]) if row else None


# ---------------------------------------------------------------- the delivery log
_SECRET_HINTS = """
SELECT version, hint, created_at, expires_at FROM webhook_endpoint_secrets
WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY version DESC
"""
_DELIVERY_COLUMNS = """
d.id, d.endpoint_id, d.event_id, d.event_type, d.ordering_key, d.status, d.attempts, d.next_attempt_at,
d.created_at, d.finished_at
"""
_LOG_PAGE = f"""
SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d
WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.id < $2) ORDER BY d.id DESC LIMIT $3
"""
_ATTEMPTS_OF = """
SELECT delivery_id, number, started_at, latency_ms, outcome, reason, detail, status_code, response_snippet
FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, number
"""
_DELIVERY_OF_INSTALL = f"""
SELECT {_DELIVERY_COLUMNS}, e.status AS endpoint_status FROM webhook_deliveries d
JOIN webhook_endpoints e ON e.id = d.endpoint_id
WHERE d.id = $1 AND e.install_id = $2
"""
_PURGE_LOG = "DELETE FROM webhook_deliveries WHERE created_at < $1"


async def secret_hints(conn: asyncpg.Connection, endpoint_id: str, *,
                       now: datetime) -> list[tuple[str, datetime, datetime | None]]:
    """``(last four characters, created_at, expires_at)`` of each secret that signs now, newest first."""
    return [(row["hint"], row["created_at"], row["expires_at"])
            for row in await conn.fetch(_SECRET_HINTS, endpoint_id, now)]


async def log_page(conn: asyncpg.Connection, endpoint_id: str, *, before: str | None,
                   limit: int) -> list[DeliveryRecord]:
    """A page of the endpoint's deliveries, newest first, each with every attempt."""
    rows = await conn.fetch(_LOG_PAGE, endpoint_id, before, limit)
    by_delivery: dict[str, list[RecordedAttempt]] = {row["id"]: [] for row in rows}
    for attempt in await conn.fetch(_ATTEMPTS_OF, list(by_delivery)):
        by_delivery[attempt["delivery_id"]].append(RecordedAttempt(**attempt))
    return [DeliveryRecord(**row, attempt_log=tuple(by_delivery[row["id"]])) for row in rows]


async def delivery_of_install(conn: asyncpg.Connection, delivery_id: str,
                              install_id: str) -> tuple[DeliveryRecord, str] | None:
    """A delivery to one of the install's endpoints with that endpoint's status; None otherwise."""
    row = await conn.fetchrow(_DELIVERY_OF_INSTALL, delivery_id, install_id)
    if row is None:
        return None
    fields = dict(row)
    endpoint_status = fields.pop("endpoint_status")
    attempts_made = tuple(RecordedAttempt(**a) for a in await conn.fetch(_ATTEMPTS_OF, [delivery_id]))
    return DeliveryRecord(**fields, attempt_log=attempts_made), endpoint_status


async def purge_log(conn: asyncpg.Connection, older_than: datetime) -> str:
    """Forget deliveries (and their attempts) queued before ``older_than``."""
    return await conn.execute(_PURGE_LOG, older_than)

