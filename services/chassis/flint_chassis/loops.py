"""Background loops beside the consumers and the outbox relay: a round of work run again and
again until the service stops (follow-up, mail, applying pending broker changes).

A round that fails is logged and the loop goes on: a database restart or a bug in one round
must never end the loop silently. Each loop remembers when it last completed a round and
whether that round failed, so readiness can say which loop is stuck (``stalled``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger("flint.loops")

# A round that failed (the database gone) waits this long before the next one.
_AFTER_FAILURE = 1.0


class Loop:
    """Runs ``round_`` until stopped: at once again when it returns True (it did something),
    else after ``interval`` seconds. Exceptions of the ``expected`` types (the database or the
    broker away) are logged as warnings without a traceback; any other as an error with one."""

    def __init__(self, name: str, round_: Callable[[], Awaitable[bool | object]], interval: float, *,
                 expected: tuple[type[BaseException], ...] = ()) -> None:
        self.name, self._round, self._interval, self._expected = name, round_, interval, expected
        self.last_round_at = time.monotonic()
        self.rounds = 0
        self.failing: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                busy = await self._round() is True
                self.failing = None
            except Exception as error:  # the next round tries again; a bug must not end the loop
                self.failing = f"{type(error).__name__}: {error}"
                if isinstance(error, self._expected):
                    log.warning("%s round failed: %s", self.name, self.failing)
                else:
                    log.exception("%s round failed", self.name)
                busy = False
                await asyncio.sleep(_AFTER_FAILURE)
            self.last_round_at = time.monotonic()
            self.rounds += 1
            if not busy:
                await asyncio.sleep(self._interval)


@contextlib.asynccontextmanager
async def running(*loops: Loop) -> AsyncIterator[None]:
    """Starts ``loops``, and stops them when the block ends."""
    for loop in loops:
        loop.start()
    try:
        yield
    finally:
        for loop in loops:
            await loop.stop()


def stalled(loops: list[Loop], *, after: float) -> list[str]:
    """Loops that have not completed a round for ``after`` seconds, or whose last round failed."""
    now = time.monotonic()
    found = [f"{loop.name}: no round for {now - loop.last_round_at:.0f}s" for loop in loops
             if now - loop.last_round_at > after]
    found += [f"{loop.name}: {loop.failing}" for loop in loops if loop.failing]
    return found
