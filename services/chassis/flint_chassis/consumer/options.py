"""How a consumer retries, parks and judges itself stalled; from the service's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConsumerOptions:
    retry_backoff: float = 0.1
    infra_backoff_max: float = 5.0
    conflict_retries: int = 3
    park_delays: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300, 300)
    redrive_interval: float = 1.0
    stall_seconds: float = 60.0
    commit_every: int = 100
    commit_interval: float = 1.0

    @classmethod
    def from_settings(cls, settings: Any) -> ConsumerOptions:
        """From ``flint_chassis.config.ServiceSettings`` (its ``consumer_*`` fields)."""
        return cls(
            retry_backoff=settings.consumer_retry_backoff,
            infra_backoff_max=settings.consumer_infra_backoff_max,
            conflict_retries=settings.consumer_conflict_retries,
            park_delays=tuple(settings.consumer_park_delays),
            redrive_interval=settings.consumer_redrive_interval,
            stall_seconds=settings.consumer_stall_seconds,
            commit_every=settings.consumer_commit_every,
            commit_interval=settings.consumer_commit_interval,
        )
