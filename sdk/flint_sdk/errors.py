"""What the client raises: every failed call is one :class:`FlintError`.

An API error (``application/problem+json``) becomes the class of its status family, carrying
the problem's fields::

    try:
        client.orders.cancel(order_id)
    except ConflictError as error:
        print(error.code)            # "invalid_transition": what a program switches on
        print(error.detail)          # what happened this time, in words
        print(error.correlation_id)  # quote it when reporting a problem

| class | statuses |
|---|---|
| :class:`InvalidRequestError` (validation) | 400, 413, 415, 422 |
| :class:`AuthenticationError` (auth) | 401 |
| :class:`PermissionDeniedError` (auth) | 403 |
| :class:`NotFoundError` | 404 |
| :class:`ConflictError` | 409 |
| :class:`RateLimitedError` | 429, with ``retry_after`` |
| :class:`UnavailableError` | 502, 503, 504, with ``retry_after`` when the server sent one |
| :class:`ServerError` | 500 and any other 5xx |
| :class:`ApiError` | anything else |

The network failing is a :class:`FlintConnectionError`; a refused token request (RFC 6749
error JSON from ``/oauth/token``) an :class:`OAuthError`.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

import httpx


class FlintError(Exception):
    """Anything the Flint client raises."""


@dataclass(frozen=True)
class FieldError:
    """One invalid input of a validation problem."""

    field: str
    code: str
    message: str


class ApiError(FlintError):
    """An error answer from a Flint API, with the fields of its problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        correlation_id: str | None = None,
        type: str | None = None,
        instance: str | None = None,
        retry_after: float | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail or title}")
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.errors = errors or []
        self.correlation_id, self.type, self.instance = correlation_id, type, instance
        self.retry_after = retry_after
        self.headers = headers or httpx.Headers()


class InvalidRequestError(ApiError):
    """The request is invalid (400, 413, 415, 422); ``errors`` names each bad field."""


class AuthError(ApiError):
    """The caller is not allowed: no valid token (401) or not enough rights (403)."""


class AuthenticationError(AuthError):
    """401: the token is missing, expired, revoked or of an uninstalled app, and a new one
    could not be had."""


class PermissionDeniedError(AuthError):
    """403: a valid token without the scope or the kind (merchant, app) the call needs."""


class OAuthError(AuthError):
    """``/oauth/token`` refused a grant: ``code`` is the RFC 6749 error (``invalid_grant``,
    ``invalid_client`` ...). A refused refresh token means the app must be installed again."""


class NotFoundError(ApiError):
    """404: no such resource for this caller (another merchant's is not found either)."""


class ConflictError(ApiError):
    """409: the resource's state does not allow the call (``invalid_transition``), or it
    changed while the call ran (``conflict``: retried by the client when safe)."""


class RateLimitedError(ApiError):
    """429: the token's request budget is spent; ``retry_after`` says for how many seconds."""


class UnavailableError(ApiError):
    """502/503/504: a dependency is down or the service is starting; retry later."""


class ServerError(ApiError):
    """500: an unexpected error on Flint's side; quote ``correlation_id`` when reporting it."""


class FlintConnectionError(FlintError):
    """The network failed: no answer, or the connection broke before one arrived.

    ``retryable`` is False when repeating the request could do harm, as for a token refresh
    whose rotation the server may already have applied.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequestError, 413: InvalidRequestError, 415: InvalidRequestError, 422: InvalidRequestError,
    401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError,
    429: RateLimitedError, 502: UnavailableError, 503: UnavailableError, 504: UnavailableError,
}
_TYPE_BASE = "https://flint.dev/problems/"


def error_class(status: int) -> type[ApiError]:
    """The class of an error answer with ``status``."""
    if status in _CLASSES:
        return _CLASSES[status]
    return ServerError if status >= 500 else ApiError


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed error of a 4xx/5xx answer, problem+json or not."""
    document = _json_object(response)
    status = response.status_code
    return error_class(status)(
        status,
        _code(document, status),
        _text(document.get("title")) or response.reason_phrase or "Error",
        _text(document.get("detail")),
        errors=_field_errors(document.get("errors")),
        correlation_id=_text(document.get("correlation_id")) or response.headers.get("x-correlation-id"),
        type=_text(document.get("type")),
        instance=_text(document.get("instance")),
        retry_after=retry_after(response.headers.get("retry-after")),
        headers=response.headers,
    )


def oauth_error(response: httpx.Response) -> OAuthError:
    """A refusal from ``/oauth/token`` (``{"error", "error_description"}``)."""
    document = _json_object(response)
    code = _text(document.get("error")) or f"http_{response.status_code}"
    return OAuthError(response.status_code, code, "Token request refused", _text(document.get("error_description")),
                      correlation_id=response.headers.get("x-correlation-id"), headers=response.headers)


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _code(document: dict[str, Any], status: int) -> str:
    """``code`` as the API sends it; older answers only had ``type``, whose last part names it."""
    if code := _text(document.get("code")):
        return code
    type_ = _text(document.get("type")) or ""
    if type_.startswith(_TYPE_BASE):
        return type_.removeprefix(_TYPE_BASE).replace("-", "_")
    return f"http_{status}"


def _field_errors(items: Any) -> list[FieldError]:
    if not isinstance(items, list):
        return []
    return [
        FieldError(field=_text(item.get("field")) or "", code=_text(item.get("code")) or "invalid",
                   message=_text(item.get("message")) or _text(item.get("reason")) or "")
        for item in items if isinstance(item, dict)
    ]


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
