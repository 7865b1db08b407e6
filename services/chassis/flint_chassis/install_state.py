"""Each service's own projection of install state, from ``flint.installs.events.v1``.

The table ``flint_install_state`` is a chassis table (every service that verifies tokens
has it, from the chassis migrations): ``flint_chassis.auth`` reads it on every request, so
an uninstalled app's unexpired token is refused as soon as this service has consumed the
``install.uninstalled`` event. A service subscribes with ``install_state.subscription``.
"""

from __future__ import annotations

import asyncpg

from flint_chassis.consumer import Event, Subscription
from flint_contracts import event_types as types
from flint_contracts.events import InstallData
from flint_contracts.topics import INSTALLS_EVENTS

# An older event never overwrites a newer state: installs stamps each event with the
# install's updated_at, which only moves forward.
_UPSERT = """
INSERT INTO flint_install_state (install_id, app_id, merchant_id, scopes, status, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (install_id) DO UPDATE
   SET app_id = EXCLUDED.app_id, merchant_id = EXCLUDED.merchant_id, scopes = EXCLUDED.scopes,
       status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
 WHERE flint_install_state.updated_at <= EXCLUDED.updated_at
"""
_SELECT = "SELECT status, scopes FROM flint_install_state WHERE install_id = $1"

subscription = Subscription("install-state", INSTALLS_EVENTS)


@subscription.on(types.INSTALL_CREATED, types.INSTALL_SCOPES_UPDATED, types.INSTALL_UNINSTALLED)
async def record(conn: asyncpg.Connection, event: Event[InstallData]) -> None:
    """Keep the install's latest status and scopes."""
    install = event.data
    await conn.execute(_UPSERT, install.install_id, install.app_id, install.merchant_id, list(install.scopes),
                       install.status, event.time)


class InstallProjection:
    """Reads this service's copy of install state (what ``TokenVerifier`` checks)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, install_id: str) -> asyncpg.Record | None:
        return await self._pool.fetchrow(_SELECT, install_id)
