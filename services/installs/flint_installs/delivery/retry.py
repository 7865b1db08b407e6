"""When to try a failed delivery again, when to give it up, when to disable its endpoint.

Pure functions of time and attempt count. Delays grow exponentially with *full jitter*
(a uniform draw between a small floor and the exponential bound): receivers that failed
together, after an outage, come back to a spread of retries rather than a synchronized wave.
The last retry lands exactly at the end of the window, so a delivery is tried for all of it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_DELAY = timedelta(seconds=1)
"""No retry sooner than this, whatever the draw: a receiver that just failed gets a breath."""


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=6)
    window: timedelta = timedelta(days=3)
    disable_after: timedelta = timedelta(days=3)

    def delay_bound(self, failed_attempts: int) -> timedelta:
        """The largest delay after ``failed_attempts`` failures: first_delay · 2^(n-1), capped."""
        doublings = min(max(failed_attempts, 1) - 1, 40)  # 2**40 × seconds is far past any cap
        return min(self.max_delay, self.first_delay * (2**doublings))

    def retry_delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        """A random delay in [MIN_DELAY, delay_bound] (full jitter; the floor never exceeds the bound)."""
        bound = self.delay_bound(failed_attempts)
        draw = timedelta(seconds=(rng or random).uniform(0.0, bound.total_seconds()))
        return max(min(MIN_DELAY, bound), draw)

    def next_attempt_at(self, *, created_at: datetime, failed_attempts: int, now: datetime,
                        rng: random.Random | None = None) -> datetime | None:
        """When to try again after a failure at ``now``, or None to give the delivery up.

        ``created_at`` starts the window (when the event became due for this endpoint).
        """
        deadline = created_at + self.window
        if now >= deadline:
            return None
        return min(now + self.retry_delay(failed_attempts, rng), deadline)

    def should_disable(self, *, failing_since: datetime | None, now: datetime) -> bool:
        """True when the endpoint has failed every attempt for ``disable_after`` or longer."""
        return failing_since is not None and now - failing_since >= self.disable_after
