"""The webhook sender of the installs worker: deliveries go out continuously, up to
``concurrency`` attempts at a time.

Rather than rounds that wait for their slowest receiver (one that hangs would hold every
other delivery for the whole total timeout), the sender claims as many due deliveries as it
has free slots, and claims again whenever a slot frees, a delivery is queued (the router's
``NOTIFY flint_webhooks``, delivered on commit) or ``poll_interval`` passes (retries that
became due). The claim rule keeps each order's events one at a time and in order, so a
finished delivery is what lets the next event of its order go.

Stopping lets attempts on the wire finish for up to the total timeout; one that does not is
cancelled, and its delivery is claimed again when its lease runs out (at least once).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from flint_chassis.listen import NotifyListener, woken
from flint_installs.delivery.dispatch import Dispatcher
from flint_installs.delivery.model import ClaimedDelivery

log = logging.getLogger("flint.installs.webhooks")

_DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class SenderWorker:
    def __init__(self, pool: asyncpg.Pool, dispatcher: Dispatcher, *, wake_channel: str, concurrency: int,
                 poll_interval: float, stop_timeout: float) -> None:
        self._dispatcher = dispatcher
        self._concurrency = concurrency
        self._batch = max(1, concurrency // 4)
        self._poll_interval = poll_interval
        self._stop_timeout = stop_timeout
        self._wake = asyncio.Event()
        self._listener = NotifyListener(pool, wake_channel, self._wake.set)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.attempted = 0

    async def start(self) -> None:
        try:
            await self._listener.ensure()
        except _DATABASE_ERRORS as error:  # the loop subscribes again on its next turn
            log.warning("webhook sender cannot LISTEN yet: %s", error)
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=self._stop_timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._listener.close()

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before claiming: a wake-up during the claim is kept for the wait
            free = self._concurrency - len(self._in_flight)
            # Under load, claim when a quarter of the slots are free rather than for each one:
            # a claim is a transaction, and one per delivery would cost as much as the delivery.
            if free >= self._batch or (free > 0 and not self._in_flight):
                claimed = await self._claim(free)
                for delivery in claimed:
                    self._launch(delivery)
                if claimed and len(claimed) == free:
                    continue  # maybe more are due: claim again once slots free
            if await self._listen_again():
                continue
            await woken(self._wake, self._poll_interval)

    async def _claim(self, free: int) -> list[ClaimedDelivery]:
        try:
            return await self._dispatcher.claim(free)
        except _DATABASE_ERRORS as error:
            log.warning("webhook sender cannot claim deliveries: %s; next try in %.1fs", error, self._poll_interval)
        except Exception:
            log.exception("webhook sender failed to claim deliveries; next try in %.1fs", self._poll_interval)
        return []

    def _launch(self, delivery: ClaimedDelivery) -> None:
        task = asyncio.create_task(self._deliver(delivery), name=f"webhook-{delivery.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.attempted += 1
        self._wake.set()  # a free slot, and maybe the next event of that order

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            await self._dispatcher.deliver(delivery)
        except _DATABASE_ERRORS as error:
            log.warning("delivery %s: cannot record the attempt (%s); it is sent again after its lease",
                        delivery.id, error)
        except Exception:
            log.exception("delivery %s failed unexpectedly; it is sent again after its lease", delivery.id)

    async def _listen_again(self) -> bool:
        try:
            return await self._listener.ensure()
        except _DATABASE_ERRORS as error:
            log.debug("webhook sender cannot LISTEN yet: %s", error)
            return False
