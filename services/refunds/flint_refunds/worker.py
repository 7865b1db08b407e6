"""Who runs refunds: the API right after a refund is stored, and workers for everything left
pending (docs/refunds.md, "How a refund runs").

- ``AnswerRuns``: ``POST /v1/refunds`` starts the run as soon as the refund is committed and
  waits up to ``refund_answer_wait`` seconds for it, so the answer usually says `succeeded`
  or `failed`. A run still going on after that finishes in the background; one cut short
  (the process stopped) is resumed by a worker once its lease ends.
- ``RefundWorker``: in processes of role ``worker`` (or ``all``), every
  ``refund_poll_interval`` seconds, leases pending refunds that are due (``FOR UPDATE SKIP
  LOCKED``: several workers share them) and runs them: those the API left, those whose run
  died with its process, and those waiting out a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from flint_refunds import repository
from flint_refunds.config import RefundsSettings
from flint_refunds.domain import Refund
from flint_refunds.runner import RefundRunner

log = logging.getLogger("flint.refunds.worker")

BATCH = 10  # refunds one worker leases at a time


class AnswerRuns:
    """Runs started for an answer; kept here so none is lost to the garbage collector, and
    cancelled when the service stops (their refunds stay pending for a worker)."""

    def __init__(self, runner: RefundRunner, wait: float) -> None:
        self._runner = runner
        self._wait = wait
        self._tasks: set[asyncio.Task[Refund | None]] = set()

    @property
    def enabled(self) -> bool:
        return self._wait > 0

    async def run(self, refund_id: str) -> Refund | None:
        """The refund after its run, or None when the run took longer than the wait or failed
        (the caller reads the refund as it stands)."""
        task = asyncio.create_task(self._runner.run(refund_id), name=f"refund-{refund_id}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        done, _ = await asyncio.wait({task}, timeout=self._wait)
        if task in done and task.exception() is None:
            return task.result()
        return None

    def _finished(self, task: asyncio.Task[Refund | None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("running %s failed; a worker resumes it", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class RefundWorker:
    """Resumes pending refunds that are due, until stopped."""

    def __init__(self, settings: RefundsSettings, pool: Callable[[], asyncpg.Pool], runner: RefundRunner) -> None:
        self._settings = settings
        self._pool = pool
        self._runner = runner
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="refund-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_due(self) -> int:
        """One round: lease what is due and run it. Returns how many refunds it ran."""
        due = await repository.claim_due(self._pool(), BATCH, self._settings.refund_lease_seconds)
        results = await asyncio.gather(*(self._runner.run(d.refund_id, attempts=d.attempts) for d in due),
                                       return_exceptions=True)
        for claimed, result in zip(due, results, strict=True):
            if isinstance(result, Exception):
                log.error("running refund %s failed; it is tried again when its lease ends", claimed.refund_id,
                          exc_info=result)
        return len(due)

    async def _loop(self) -> None:
        while True:
            try:
                ran = await self.run_due()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:  # the database comes back
                log.warning("looking for pending refunds failed: %s", error)
                ran = 0
            except Exception:  # a bug must not stop every later resumption: log it and go on
                log.exception("looking for pending refunds failed")
                ran = 0
            if ran < BATCH:  # a full batch may mean more are due: look again at once
                await asyncio.sleep(self._settings.refund_poll_interval)
