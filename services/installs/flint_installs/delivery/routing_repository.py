"""SQL of routing (migration 0004): the installs an event may go to, and the install's event
feed. Every function takes the connection of the caller's transaction.

The router reads installs ``FOR SHARE``: an uninstall or a change of scopes (``FOR UPDATE``)
waits for a routing transaction in progress, and a routing transaction that starts after
it sees the install as it is now. So once an uninstall has committed, nothing more is
routed to that install.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from flint_chassis import outbox
from flint_contracts.topics import app_topic
from flint_installs.delivery.recipients import Recipient
from flint_installs.delivery.repository import WAKE_CHANNEL

# Each install with its enabled webhook endpoints, in one round trip per event.
_RECIPIENT_COLUMNS = """
i.id, i.app_id, i.merchant_id, i.scopes, i.status = 'active' AS active, i.created_at,
array(SELECT e.id FROM webhook_endpoints e WHERE e.install_id = i.id AND e.status = 'enabled' ORDER BY e.id)
    AS endpoint_ids
"""
_ACTIVE_INSTALLS_OF_MERCHANT = f"""
SELECT {_RECIPIENT_COLUMNS} FROM installs i WHERE i.merchant_id = $1 AND i.status = 'active' ORDER BY i.id
FOR SHARE OF i
"""
_INSTALL = f"SELECT {_RECIPIENT_COLUMNS} FROM installs i WHERE i.id = $1 FOR SHARE OF i"

# One statement routes an event to one install: the next feed position and the feed entry,
# then (only if the entry is new) its webhook deliveries, the sender's wake-up when any was
# queued, and the copy for the app's topic in installs' outbox with the relay's wake-up. The
# position is taken even for an event routed before (the entry then adds nothing): a gap,
# which readers never notice.
_ROUTE = outbox.with_change(f"""
next AS (
    INSERT INTO install_feeds (install_id, last_position) VALUES ($1, 1)
    ON CONFLICT (install_id) DO UPDATE SET last_position = install_feeds.last_position + 1
    RETURNING last_position
),
fed AS (
    INSERT INTO app_events (install_id, position, event_id, event_type, body, outbox_id, routed_at)
    SELECT $1, last_position, $2, $3, $4, $5, $6 FROM next
    ON CONFLICT (install_id, event_id) DO NOTHING
    RETURNING position
),
deliveries AS (
    INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, ordering_key, body, status,
                                    next_attempt_at, created_at, traceparent)
    SELECT d.id, d.endpoint_id, $2, $3, $7, $4, 'pending', $6, $6, $8
      FROM unnest($9::text[], $10::text[]) WITH ORDINALITY AS d(id, endpoint_id, n)
     WHERE EXISTS (SELECT 1 FROM fed)
     ORDER BY d.n
    ON CONFLICT (endpoint_id, event_id) DO NOTHING
    RETURNING 1
),
routed AS (
    SELECT q.queued, CASE WHEN q.queued > 0 THEN pg_notify('{WAKE_CHANNEL}', '') END AS sender_woken
      FROM fed, (SELECT count(*) AS queued FROM deliveries) AS q
)""", changed="routed", first_param=11)
_PAGE = """
SELECT position, body FROM app_events WHERE install_id = $1 AND position > $2 ORDER BY position LIMIT $3
"""
_OF_OUTBOX_ROWS = "SELECT outbox_id FROM app_events WHERE install_id = $1 AND outbox_id = ANY($2::text[])"
_FORGET = "DELETE FROM app_events WHERE install_id = $1 AND outbox_id = ANY($2::text[])"
_PURGE = "DELETE FROM app_events WHERE routed_at < $1"


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(install_id=row["id"], app_id=row["app_id"], merchant_id=row["merchant_id"],
                     scopes=tuple(row["scopes"]), active=row["active"], created_at=row["created_at"],
                     endpoint_ids=tuple(row["endpoint_ids"]))


async def active_installs_of(conn: asyncpg.Connection, merchant_id: str) -> list[Recipient]:
    """The merchant's active installs (with their enabled endpoints), locked against uninstall
    until the caller commits."""
    return [_recipient(row) for row in await conn.fetch(_ACTIVE_INSTALLS_OF_MERCHANT, merchant_id)]


async def install(conn: asyncpg.Connection, install_id: str) -> Recipient | None:
    """One install, active or not, locked likewise."""
    row = await conn.fetchrow(_INSTALL, install_id)
    return _recipient(row) if row else None


@dataclass(frozen=True)
class FeedEntry:
    install_id: str
    event_id: str
    event_type: str
    body: bytes
    outbox_id: str
    routed_at: datetime


@dataclass(frozen=True)
class Webhooks:
    """The deliveries to queue with a feed entry: one id per endpoint."""

    delivery_ids: list[str]
    endpoint_ids: list[str]
    ordering_key: str
    traceparent: str | None


async def route(conn: asyncpg.Connection, entry: FeedEntry, message: outbox.StagedRaw, webhooks: Webhooks) -> int | None:
    """Add the event to the install's feed with the next position, ``message`` to the
    outbox and the webhook deliveries, in one round trip; how many deliveries were queued, or
    None (writing nothing) when the event is in the feed already."""
    row = await conn.fetchrow(_ROUTE, entry.install_id, entry.event_id, entry.event_type, entry.body,
                              entry.outbox_id, entry.routed_at, webhooks.ordering_key, webhooks.traceparent,
                              webhooks.delivery_ids, webhooks.endpoint_ids,
                              *message.columns())
    return row["queued"] if row is not None else None


async def page(conn: asyncpg.Connection, install_id: str, *, after: int, limit: int) -> list[tuple[int, bytes]]:
    """``(position, body)`` of the install's events after ``after``, oldest first."""
    return [(row["position"], bytes(row["body"])) for row in await conn.fetch(_PAGE, install_id, after, limit)]


async def withdraw_unpublished(conn: asyncpg.Connection, install_id: str, app_id: str) -> int:
    """Take back what was routed to the install but is not on the app's topic yet: its outbox
    rows and their feed entries (for an uninstall, after its install row is locked). Returns
    how many events were withdrawn."""
    waiting = await outbox.unpublished_ids(conn, app_topic(app_id))
    if not waiting:
        return 0
    mine = [row["outbox_id"] for row in await conn.fetch(_OF_OUTBOX_ROWS, install_id, waiting)]
    withdrawn = await outbox.withdraw(conn, mine)
    if withdrawn:
        await conn.execute(_FORGET, install_id, withdrawn)
    return len(withdrawn)


async def purge(conn: asyncpg.Connection, older_than: datetime) -> str:
    """Forget feed entries routed before ``older_than``; returns the command tag."""
    return await conn.execute(_PURGE, older_than)
