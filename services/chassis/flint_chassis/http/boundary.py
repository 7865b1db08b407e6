"""The last line of defence: an exception no route handled becomes a problem document on
the same connection, never a reset.

uvicorn closes the connection when an exception escapes the app after a response was sent,
and Starlette's ServerErrorMiddleware sends its plain-text 500 and then re-raises; so a
client that retried on that keep-alive connection got a reset. This layer sits inside the
correlation middleware, answers and logs with the request's correlation id, and does not
re-raise:

- the database (or another dependency) does not answer: 503 ``service_unavailable`` with
  ``Retry-After``; the outage is logged once per request as a warning, without a traceback;
- anything else: 500 ``internal_error``, nothing about the error in the body, the
  traceback in the log.
"""

from __future__ import annotations

import logging

import asyncpg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import INTERNAL_ERROR, SERVICE_UNAVAILABLE, Problem, problem_response

log = logging.getLogger("flint.http")

# What a lost or refused database connection raises. OSError covers a refused or reset
# socket and connect timeouts; PostgresConnectionError the server's 08xxx errors;
# OperatorInterventionError its 57xxx ones (shutting down, starting up, "cannot connect now").
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class DependencyUnavailable(Exception):
    """Raise when a dependency cannot be reached; answered as 503 with ``Retry-After``."""


def dependency_error(error: BaseException) -> BaseException | None:
    """The outage behind ``error``, if it is one: the error itself, one it was raised from
    (``raise ... from``), or, for asyncpg's ``InterfaceError``, the one it was raised while
    handling. A connection lost mid-transaction surfaces as ``InterfaceError`` ("the
    underlying connection is closed", from the transaction's exit) with the
    ``ConnectionDoesNotExistError`` behind it: an outage, not a bug."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, (DependencyUnavailable, *DEPENDENCY_ERRORS)):
            return current
        seen.add(id(current))
        current = current.__cause__ or (
            current.__context__ if isinstance(current, asyncpg.exceptions.InterfaceError) else None)
    return None


class ErrorBoundary:
    def __init__(self, app: ASGIApp, *, retry_after: int = 2) -> None:
        self.app = app
        self.retry_after = str(retry_after)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as raised:  # noqa: BLE001 - sorted below: an outage, or a bug
            error = dependency_error(raised)
            if error is None:
                log.exception("%s %s failed", scope["method"], scope["path"])
                if started:
                    raise
                await self._answer(Problem(INTERNAL_ERROR, "an unexpected error; nothing about it is shown here"),
                                   scope, receive, send)
                return
            log.warning("%s %s: a dependency does not answer: %s: %s", scope["method"], scope["path"],
                        type(error).__name__, error)
            if started:
                raise
            problem = Problem(SERVICE_UNAVAILABLE, "the database does not answer; retry shortly",
                              headers={"Retry-After": self.retry_after})
            await self._answer(problem, scope, receive, send)

    @staticmethod
    async def _answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(problem, scope["path"], current_correlation_id())
        await response(scope, receive, send)
