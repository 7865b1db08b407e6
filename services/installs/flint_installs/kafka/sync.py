"""Keeping the broker's ACLs in line with installs: an app may read its topic while it has at
least one active install.

Install and uninstall record what the app should have (``repository.decide``) in their own
transaction. Right after that commits, the request that made the change applies it
(``apply``): an uninstall answers only once the broker refuses the app, after routing to it
has already stopped (docs/kafka.md: stop routing first, then revoke). If the broker cannot be
reached then, the change stays pending and the worker's loop (``run``) applies it as soon as
it can. The first grant creates the app's topic.

One change per app reaches the broker at a time, in order, under a transaction-level
advisory lock: a grant and a revoke racing each other cannot land in the wrong order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from flint_chassis.kafka_access import KafkaAccess, KafkaAccessError
from flint_installs.kafka import repository

log = logging.getLogger("flint.installs.kafka_access")

_DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class AppAccessSync:
    def __init__(self, pool: asyncpg.Pool, access: Callable[[], KafkaAccess], *, interval: float) -> None:
        self._pool = pool
        self._access = access
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def apply(self, app_id: str) -> bool:
        """Give the broker the app's pending change, if any; True when the broker is up to date."""
        async with self._pool.acquire() as conn, conn.transaction():
            state = await repository.lock_for_applying(conn, app_id)
            if state is None or state.applied:
                return True
            try:
                if state.readable:
                    await self._access().grant_read(app_id)
                else:
                    await self._access().revoke_all(app_id)
            except KafkaAccessError as error:
                log.warning("kafka access of %s not changed yet: %s", app_id, error)
                await repository.mark_failed(conn, app_id, str(error))
                return False
            await repository.mark_applied(conn, app_id, state.version, datetime.now(UTC))
        log.info("kafka access of %s: %s", app_id, "read granted" if state.readable else "revoked")
        return True

    async def apply_now(self, app_id: str) -> None:
        """``apply`` for a request that just committed a change: never fails the request (the
        worker's loop tries again)."""
        try:
            await self.apply(app_id)
        except _DATABASE_ERRORS as error:
            log.warning("kafka access of %s left to the worker: %s", app_id, error)

    async def apply_pending(self) -> int:
        """Apply every pending change; returns how many reached the broker."""
        async with self._pool.acquire() as conn:
            apps = await repository.pending(conn)
        return sum([await self.apply(app_id) for app_id in apps])

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kafka-access-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.apply_pending()
            except _DATABASE_ERRORS as error:
                log.warning("cannot look at pending kafka access changes: %s", error)
            except Exception:
                log.exception("applying kafka access changes failed")
            await asyncio.sleep(self._interval)
