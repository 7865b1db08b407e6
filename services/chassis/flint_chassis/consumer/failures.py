"""What a handler's exception means for its message (the failure table of docs/chassis.md)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

import asyncpg

from flint_chassis.consumer.subscription import ErrorRules
from flint_chassis.errors import Conflict, PermanentError, RetryLater


class Action(Enum):
    WAIT = "wait"          # the database is unreachable: retry in place until it answers
    CONFLICT = "conflict"  # transient: a few quick retries in place, then park
    PARK = "park"          # may apply later: park, other keys go on
    DEAD = "dead"          # never: dead-letter at once


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str = ""
    code: str = ""
    bug: bool = False  # an unexpected exception: logged with its traceback


_UNREACHABLE = (
    OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.TooManyConnectionsError,
)
_TRANSIENT = (Conflict, asyncpg.SerializationError, asyncpg.DeadlockDetectedError)


def database_unreachable(error: BaseException) -> bool:
    """The database cannot be reached or is going away: not the message's fault."""
    if isinstance(error, _UNREACHABLE):
        return True
    # asyncpg raises a plain InterfaceError for work on a connection that has died; other
    # InterfaceErrors (wrong argument count...) are bugs and must not be retried forever.
    return isinstance(error, asyncpg.InterfaceError) and "closed" in str(error)


def judge(error: Exception, rules: ErrorRules | None = None) -> Verdict:
    """The verdict on ``error``, after the service's ``rules`` had their say."""
    if rules is not None:
        error = rules(error) or error
    if isinstance(error, PermanentError):
        return Verdict(Action.DEAD, error.reason, error.code)
    if isinstance(error, RetryLater):
        return Verdict(Action.PARK, error.reason, error.code)
    if isinstance(error, _TRANSIENT):
        return Verdict(Action.CONFLICT, f"{type(error).__name__}: {error}", "conflict")
    if isinstance(error, asyncpg.DataError):
        # The data passed the contract but not the database (an untranslatable character,
        # a number out of range): the message is at fault, and will be every time.
        return Verdict(Action.DEAD, f"the database refused its data: {error}", "invalid_event")
    if database_unreachable(error):
        return Verdict(Action.WAIT, str(error))
    return Verdict(Action.DEAD, f"{type(error).__name__}: {error}", "handler_error", bug=True)
