"""When the client repeats a call, and how long it waits first.

A call is repeated only when repeating it cannot do harm:

- a request that may have reached the server (a broken connection, a timeout, a 5xx, a
  409 ``conflict``) is repeated only when it is **safe**: a GET (or another method HTTP
  defines as idempotent: HEAD, PUT, DELETE), or a POST carrying an ``Idempotency-Key``,
  which the server answers at most once;
- a 429 is repeated whatever the method: the server refused it before doing anything;
- nothing else is (a 4xx is the caller's to fix; a keyless POST whose connection broke is
  raised, since it may have been applied).

Waits grow exponentially with full jitter (``backoff × 2^attempt``, capped, times a random
factor), so clients that failed together do not come back together. An answer's
``Retry-After`` (429, 503) is honoured: the client waits that long, plus up to 10 % jitter;
when it asks for longer than ``max_retry_after`` the error is raised at once instead.
The loop itself is tenacity's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from flint_sdk.errors import ConflictError, FlintConnectionError, RateLimitedError, ServerError, UnavailableError

log = logging.getLogger("flint_sdk")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def is_safe(method: str, idempotency_key: str | None) -> bool:
    """Whether a request may be sent twice without changing the outcome."""
    return method.upper() in IDEMPOTENT_METHODS or idempotency_key is not None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a call and how long to wait between tries.

    ``max_attempts`` counts the first try (1 turns retries off). ``sleep`` and
    ``async_sleep`` exist so tests can watch the waits instead of sitting through them.
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    def should_retry(self, error: BaseException, safe: bool) -> bool:
        """Whether ``error`` (from a request that is ``safe`` to repeat or not) is worth another try."""
        if isinstance(error, RateLimitedError):
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        if not safe:
            return False
        if isinstance(error, FlintConnectionError):
            return error.retryable
        if isinstance(error, UnavailableError):
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        if isinstance(error, ConflictError):
            return error.code == "conflict"  # changed while the call ran, not a state that refuses it
        return isinstance(error, ServerError)

    def wait(self, state: RetryCallState) -> float:
        """Seconds before the next try: the server's ``Retry-After``, else jittered backoff."""
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after + random.uniform(0, retry_after / 10)
        return wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)(state)

    def retrying(self, safe: bool) -> Retrying:
        """A tenacity loop for one blocking call."""
        return Retrying(sleep=self.sleep, reraise=True, **self._options(safe))

    def async_retrying(self, safe: bool) -> AsyncRetrying:
        """A tenacity loop for one awaited call."""
        return AsyncRetrying(sleep=self.async_sleep, reraise=True, **self._options(safe))

    def _options(self, safe: bool) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(max(1, self.max_attempts)),
            "wait": self.wait,
            "retry": retry_if_exception(lambda error: self.should_retry(error, safe)),
            "before_sleep": _log_retry,
        }


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("flint call failed (%s), try %d again in %.2fs", error, state.attempt_number + 1, wait)
