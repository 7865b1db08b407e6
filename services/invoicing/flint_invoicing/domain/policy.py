"""The reminder policy: on which days, relative to the due date, a reminder goes out.

``[-3, 0, 3, 7]`` reminds three days before the due date, on it, and three and seven days
after. Offsets are whole days, unique, kept sorted, at most ``MAX_REMINDERS`` of them, from
``-MAX_REMINDER_DAYS_BEFORE_DUE`` to ``+MAX_REMINDER_DAYS_AFTER_DUE``. An empty policy sends
no reminders (the invoice email still goes out).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from flint_contracts.limits import MAX_REMINDER_DAYS_AFTER_DUE, MAX_REMINDER_DAYS_BEFORE_DUE, MAX_REMINDERS
from flint_invoicing.domain.errors import InvalidInput

DEFAULT_REMINDER_POLICY: tuple[int, ...] = (-3, 0, 3, 7)
"""Three days before, on the day, and three and seven days after the due date."""

SEND_TIME = time(9, 0, tzinfo=UTC)
"""Reminders go out at 09:00 UTC on their day: a working hour in Europe and the Americas' morning."""


def check_reminder_policy(offsets: Iterable[int]) -> tuple[int, ...]:
    """``offsets`` checked and sorted, or ``InvalidInput`` on ``reminder_policy`` saying why."""
    if isinstance(offsets, (str, bytes)) or not isinstance(offsets, Iterable):
        raise InvalidInput("must be a list of whole days relative to the due date", field="reminder_policy")
    values = list(offsets)
    if len(values) > MAX_REMINDERS:
        raise InvalidInput(f"must have at most {MAX_REMINDERS} reminders, got {len(values)}", field="reminder_policy")
    for index, offset in enumerate(values):
        _check_offset(f"reminder_policy[{index}]", offset)
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise InvalidInput(f"has the same day more than once: {duplicates}", field="reminder_policy")
    return tuple(sorted(values))


def reminder_moment(due_date: date, offset: int) -> datetime:
    """When the reminder at ``offset`` days from ``due_date`` goes out."""
    return datetime.combine(due_date + timedelta(days=offset), SEND_TIME)


def overdue_moment(due_date: date) -> datetime:
    """An invoice is overdue from the first moment after its due date (UTC)."""
    return datetime.combine(due_date + timedelta(days=1), time(0, 0, tzinfo=UTC))


def _check_offset(field: str, offset: object) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise InvalidInput("must be a whole number of days", field=field)
    if not -MAX_REMINDER_DAYS_BEFORE_DUE <= offset <= MAX_REMINDER_DAYS_AFTER_DUE:
        raise InvalidInput(
            f"must be from -{MAX_REMINDER_DAYS_BEFORE_DUE} (days before the due date) "
            f"to {MAX_REMINDER_DAYS_AFTER_DUE} (days after), got {offset}",
            field=field,
        )
