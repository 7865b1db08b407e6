"""Failures injected into the sandbox for tests, across processes.

``await sandbox.faults.inject("refund", "response_lost", times=1)`` makes the next refund
call, in whichever process makes it, fail that way. Faults live in the ledger database and
every call takes one in a statement of its own, so a fault is used up even when the call
then fails, and N injected faults hit exactly N calls.

| failure | what happens | money moved? |
|---|---|---|
| ``unavailable`` | ``ProcessorUnavailable`` before anything is done | no |
| ``processing_error`` | ``ProcessingError`` before anything is done | no |
| ``response_lost`` | the call completes and commits, then raises ``ProcessorUnavailable`` | yes |

``response_lost`` is the crash between the processor call and the caller's own commit: the
caller must retry with the same idempotency key, which returns the first result.
"""

from __future__ import annotations

from typing import Literal, get_args

import asyncpg

from flint_payments.errors import InvalidRequest, ProcessingError, ProcessorUnavailable

Operation = Literal["capture", "refund", "get_charge"]
Failure = Literal["unavailable", "processing_error", "response_lost"]

_INJECT = "INSERT INTO sandbox_faults (operation, failure, remaining) VALUES ($1, $2, $3)"
_TAKE = """
UPDATE sandbox_faults SET remaining = remaining - 1
WHERE id = (
    SELECT id FROM sandbox_faults WHERE operation = $1 AND remaining > 0 ORDER BY id LIMIT 1 FOR UPDATE
)
RETURNING failure
"""
_WAITING = "SELECT operation, failure, remaining FROM sandbox_faults WHERE remaining > 0 ORDER BY id"
_CLEAR = "DELETE FROM sandbox_faults"


class Faults:
    """Inject, list and clear failures of the sandbox whose ledger ``pool`` opens."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def inject(self, operation: Operation, failure: Failure, *, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` fail with ``failure``."""
        if operation not in get_args(Operation) or failure not in get_args(Failure):
            raise InvalidRequest(f"no fault {failure!r} for {operation!r}: operations {get_args(Operation)}, "
                                 f"failures {get_args(Failure)}")
        if times < 1:
            raise InvalidRequest("times must be at least 1")
        await self._pool.execute(_INJECT, operation, failure, times)

    async def waiting(self) -> list[tuple[str, str, int]]:
        """Faults not used up yet: ``(operation, failure, calls left)``."""
        return [tuple(row) for row in await self._pool.fetch(_WAITING)]

    async def clear(self) -> None:
        await self._pool.execute(_CLEAR)

    async def take(self, operation: Operation) -> Failure | None:
        """Use up the oldest fault waiting for ``operation``; raise at once if it fails the call
        before anything is done. Returns ``"response_lost"`` for the caller to raise later."""
        failure = await self._pool.fetchval(_TAKE, operation)
        if failure == "unavailable":
            raise ProcessorUnavailable("The sandbox processor is unavailable (injected fault).")
        if failure == "processing_error":
            raise ProcessingError("The sandbox processor failed to process the call (injected fault).")
        return failure
