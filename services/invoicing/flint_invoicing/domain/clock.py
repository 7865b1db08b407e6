"""Where the invoice reads the time: an injected clock, so tests move time instead of waiting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, always time-zone aware."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The real time moved by a fixed offset: a service started "three days from now" sees the
    world as it will be then (``FLINT_INVOICING_CLOCK_OFFSET``), for tests and demos."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FixedClock:
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time must carry a time zone")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


def today(clock: Clock) -> date:
    """The current day in UTC: due dates are days in UTC."""
    return clock.now().astimezone(UTC).date()


def now_of(clock: Clock) -> datetime:
    """The clock's time, refused when it carries no time zone (a naive time is a bug)."""
    at = clock.now()
    if at.tzinfo is None:
        raise ValueError("the clock returned a time without a time zone")
    return at
