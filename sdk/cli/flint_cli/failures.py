"""Every failure as one line a person can act on, and the exit status that goes with it.

The CLI never shows a traceback (``FLINT_DEBUG=1`` does, for bugs in the CLI itself): a
wrong argument, a stack that does not answer, an error answer from an API, a missing
profile are each one line on stderr, starting with ``flint:``, and a non-zero exit.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from flint_sdk import ApiError, FlintConnectionError, FlintError, OAuthError

FAILED = 1
USAGE = 2
INTERRUPTED = 130


class CliError(Exception):
    """A failure the user can act on: ``message`` is printed as it is."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.message, self.exit_code = message, exit_code


def describe(error: BaseException) -> tuple[str, int]:
    """The line to print for ``error`` and the exit status."""
    if isinstance(error, CliError):
        return error.message, error.exit_code
    if isinstance(error, OAuthError):
        return _oauth(error), FAILED
    if isinstance(error, ApiError):
        return _api(error), FAILED
    if isinstance(error, FlintConnectionError):
        return f"cannot reach Flint ({error}); is the stack running? (`flint dev status`)", FAILED
    if isinstance(error, httpx.TransportError):
        where = _request_of(error)
        return f"cannot reach {where} ({type(error).__name__}); is the stack running? (`flint dev status`)", FAILED
    if isinstance(error, FlintError):
        return str(error), FAILED
    if isinstance(error, ValidationError):
        return f"unexpected answer: {_first_error(error)}", FAILED
    return f"unexpected error: {type(error).__name__}: {error} (FLINT_DEBUG=1 shows where)", FAILED


def _api(error: ApiError) -> str:
    line = f"{error.status} {error.code}: {error.detail or error.title}"
    fields = [f"{e.field}: {e.message or e.code}" for e in error.errors]
    unsaid = [field for field in fields if field not in line]  # the detail often says it already
    if unsaid:
        line += " (" + "; ".join(unsaid) + ")"
    if error.correlation_id:
        line += f" [correlation id {error.correlation_id}]"
    return line


def _oauth(error: OAuthError) -> str:
    if error.code == "invalid_grant":
        return ("the app's tokens were refused (invalid_grant: revoked, uninstalled, or used elsewhere); "
                "install it again with `flint install`")
    if error.code == "invalid_client":
        return "the app's client id or secret was refused (invalid_client); is the profile for this stack?"
    return f"token request refused: {error.code}: {error.detail or error.title}"


def _request_of(error: httpx.TransportError) -> str:
    try:
        return str(error.request.url)
    except RuntimeError:  # no request attached
        return "the server"


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "value"
    return f"{where}: {first.get('msg', 'invalid')}"
