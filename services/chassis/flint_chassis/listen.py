"""A LISTEN that survives a lost database connection.

PostgreSQL forgets a session's LISTENs when its connection ends (a restart, a failover, a
network cut). ``NotifyListener`` notices a closed connection, takes a fresh one from the pool
and subscribes again; its owner calls ``ensure()`` on every turn of its loop and treats a
fresh subscription as a wake-up, because notifications sent meanwhile were lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger("flint.listen")


async def woken(wake: asyncio.Event, timeout: float) -> bool:
    """Waits until ``wake`` is set (True) or ``timeout`` seconds pass (False), for a loop
    that works on a wake-up or a poll. Under ``asyncio.timeout``, not ``wait_for``: on Python
    3.11 ``wait_for`` drops a cancellation that lands as the wake-up completes, and a loop
    stopped that way kept running (a relay's ``stop()`` waited forever)."""
    try:
        async with asyncio.timeout(timeout):
            await wake.wait()
    except TimeoutError:
        return False
    return True


class NotifyListener:
    """One pooled connection LISTENing on ``channel``; ``on_notify`` runs for each NOTIFY."""

    def __init__(self, pool: asyncpg.Pool, channel: str, on_notify: Callable[[], None]) -> None:
        self._pool = pool
        self._channel = channel
        self._on_notify = on_notify
        self._conn: asyncpg.Connection | None = None
        self.subscriptions = 0  # how often it subscribed: 1 + reconnections

    @property
    def listening(self) -> bool:
        if self._conn is None:
            return False
        try:
            return not self._conn.is_closed()
        except asyncpg.InterfaceError:  # the pool took back a connection that died
            return False

    async def ensure(self) -> bool:
        """Subscribe if not subscribed on a live connection; True when it subscribed just now.
        Raises the database error when it cannot (the caller retries on its next turn)."""
        if self.listening:
            return False
        await self._release()
        conn = await self._pool.acquire(timeout=10)
        try:
            await conn.add_listener(self._channel, self._notified)
            conn.add_termination_listener(self._lost)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn = conn
        self.subscriptions += 1
        if self.subscriptions > 1:
            log.info("listening on %s again after a lost connection", self._channel)
        return True

    async def close(self) -> None:
        if self.listening:
            try:
                await self._conn.remove_listener(self._channel, self._notified)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                pass
        await self._release()

    def _notified(self, *_: object) -> None:
        self._on_notify()

    def _lost(self, *_: object) -> None:
        # Wake the owner at once: its next ensure() subscribes on a fresh connection.
        self._on_notify()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await self._pool.release(conn)  # the pool replaces a closed connection
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass  # already back in the pool: asyncpg releases a connection that died
