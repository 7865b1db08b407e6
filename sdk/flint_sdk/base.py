"""What the sync and async clients share: their settings, and the parts of a call that do not
wait on the network (URLs, headers, reading answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from flint_sdk.api.operation import Operation
from flint_sdk.auth import AppTokens, MerchantCredentials, StaticToken, TokenSet, TokenSource, bearer
from flint_sdk.discovery import Discovery
from flint_sdk.errors import FlintConnectionError, FlintError, error_from_response, oauth_error
from flint_sdk.retries import RetryPolicy

USER_AGENT = "flint-sdk-python/0.1.0"
T = TypeVar("T")


@dataclass(frozen=True)
class ClientOptions:
    """How a client talks to Flint.

    ``services`` overrides base URLs from the discovery document (``{"orders": "http://..."}``).
    ``timeout`` is per request, in seconds. ``retry`` says how often and how long to retry.
    """

    services: dict[str, str] | None = None
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    headers: dict[str, str] = field(default_factory=dict)


def app_tokens(client_id: str, client_secret: str, *, refresh_token: str | None = None, tokens: TokenSet | None = None,
               on_tokens: Any = None) -> AppTokens:
    """An app's token source from a stored refresh token, or the whole token set of its install."""
    if tokens is None and refresh_token is None:
        raise ValueError("give the app's refresh_token, or the tokens its install returned")
    if tokens is not None:
        if not tokens.refresh_token:
            raise ValueError("the token set has no refresh token")
        return AppTokens(client_id, client_secret, tokens.refresh_token, access_token=tokens.access_token or None,
                         expires_at=tokens.expires_at, on_tokens=on_tokens)
    assert refresh_token is not None
    return AppTokens(client_id, client_secret, refresh_token, on_tokens=on_tokens)


def token_source(*, merchant_id: str | None = None, secret_key: str | None = None, scope: str | None = None,
                 access_token: str | None = None) -> TokenSource:
    """A merchant backend's token source, or a fixed token."""
    if access_token is not None:
        return StaticToken(access_token)
    if merchant_id and secret_key:
        return MerchantCredentials(merchant_id, secret_key, scope=scope)
    raise ValueError("give merchant_id and secret_key, or an access_token")


def request_headers(operation: Operation[Any], token: str, extra: dict[str, str]) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, **extra, **bearer(token)}
    if operation.idempotency_key is not None:
        headers["Idempotency-Key"] = operation.idempotency_key
    return headers


def build_request(http: httpx.Client | httpx.AsyncClient, discovery: Discovery, operation: Operation[Any], token: str,
                  extra_headers: dict[str, str]) -> httpx.Request:
    return http.build_request(
        operation.method, discovery.base_url(operation.service) + operation.path, params=operation.query(),
        json=operation.json, headers=request_headers(operation, token, extra_headers),
    )


def parsed(operation: Operation[T], response: httpx.Response) -> T:
    """The answer read as the operation's model; an answer of another shape is a :class:`FlintError`."""
    try:
        return operation.parse(response)
    except (ValidationError, ValueError) as error:
        raise FlintError(f"{operation.method} {operation.path} answered in an unexpected shape: {error}") from None


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or its typed error."""
    if response.is_error:
        raise error_from_response(response)
    return response


def checked_token_response(response: httpx.Response) -> httpx.Response:
    """A token endpoint's answer: RFC 6749 errors as :class:`OAuthError`, others as API errors."""
    if response.status_code in (400, 401):
        raise oauth_error(response)
    return checked(response)


def connection_error(error: httpx.TransportError, what: str, *, retryable: bool = True) -> FlintConnectionError:
    return FlintConnectionError(f"{what}: {type(error).__name__}: {error}", retryable=retryable)
