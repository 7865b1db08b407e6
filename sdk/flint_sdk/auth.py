"""Where the client's access tokens come from, and when it asks for new ones.

- :class:`MerchantCredentials`: a merchant's own backend. Tokens come from the
  ``client_credentials`` grant with the merchant id and secret key; there is no refresh
  token, a new access token is simply asked for.
- :class:`AppTokens`: an installed app. It holds the access and refresh tokens from the
  install (:mod:`flint_sdk.pkce`) and renews them with the ``refresh_token`` grant. Flint
  rotates the refresh token on every use and treats a reuse as theft (the whole grant is
  revoked), so the new one must be kept: ``on_tokens`` is called with every new
  :class:`TokenSet` before it is used, to persist it.
- :class:`StaticToken`: a token obtained elsewhere; never renewed.

A token is renewed ``renew_before`` seconds before it expires, and once when an API answers
401 to it (it may have been revoked early). Renewals are serialised by the client: many
concurrent calls that find the token stale cause one renewal, not one each (for an app,
two renewals racing with one refresh token would look like theft and revoke the install).

These classes hold state and build requests; the sync and async clients send them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx

from flint_sdk.errors import OAuthError

RENEW_BEFORE = 30.0
"""Seconds before expiry at which a token counts as stale."""


@dataclass(frozen=True)
class TokenSet:
    """An access token, when it expires (Unix seconds), and the refresh token beside it."""

    access_token: str = field(repr=False)
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None

    def fresh(self, now: float, renew_before: float = RENEW_BEFORE) -> bool:
        """True while the access token is usable without renewing it first."""
        return self.expires_at is None or now < self.expires_at - renew_before

    @classmethod
    def from_response(cls, document: dict[str, Any], *, now: float | None = None) -> TokenSet:
        """A ``/oauth/token`` answer (RFC 6749 §5.1)."""
        now = time.time() if now is None else now
        expires_in = document.get("expires_in")
        return cls(
            access_token=document["access_token"],
            expires_at=now + float(expires_in) if isinstance(expires_in, (int, float)) else None,
            refresh_token=document.get("refresh_token"),
            scope=document.get("scope"),
        )


TokenCallback = Callable[[TokenSet], None | Awaitable[None]]


class TokenSource:
    """Holds the current token; knows how to ask for a new one."""

    renewable = True
    refresh_rotates = False

    def __init__(self, tokens: TokenSet | None = None, *, renew_before: float = RENEW_BEFORE) -> None:
        self.tokens = tokens
        self.renew_before = renew_before

    def usable(self, now: float | None = None) -> str | None:
        """The access token when it can be used as it is, else None (renew first)."""
        now = time.time() if now is None else now
        if self.tokens is not None and self.tokens.fresh(now, self.renew_before):
            return self.tokens.access_token
        return None

    def renewal(self, token_endpoint: str) -> httpx.Request:
        """The ``/oauth/token`` request that gets a new token."""
        raise NotImplementedError

    def absorb(self, response: httpx.Response) -> TokenSet:
        """Keep the token from a renewal's successful answer."""
        try:
            tokens = TokenSet.from_response(response.json())
        except (ValueError, KeyError, TypeError):
            raise OAuthError(response.status_code, "invalid_token_response", "Token request refused",
                             "the token endpoint answered without an access token") from None
        self.tokens = self._merged(tokens)
        return self.tokens

    def _merged(self, tokens: TokenSet) -> TokenSet:
        return tokens

    def callback(self) -> TokenCallback | None:
        """Called with every new token set (apps persist their rotated refresh token)."""
        return None


class MerchantCredentials(TokenSource):
    """A merchant's backend: ``client_credentials`` with its merchant id and secret key."""

    def __init__(self, merchant_id: str, secret_key: str, *, scope: str | None = None,
                 renew_before: float = RENEW_BEFORE) -> None:
        super().__init__(renew_before=renew_before)
        self.merchant_id, self._secret_key, self.scope = merchant_id, secret_key, scope

    def renewal(self, token_endpoint: str) -> httpx.Request:
        form = {"grant_type": "client_credentials", "client_id": self.merchant_id, "client_secret": self._secret_key}
        if self.scope:
            form["scope"] = self.scope
        return httpx.Request("POST", token_endpoint, data=form)


class AppTokens(TokenSource):
    """An installed app: its client credentials and the tokens of its install.

    ``refresh_token`` is the latest one the app holds; ``access_token`` and ``expires_at``
    may be given too (from the install, or a store) so the first call needs no refresh.
    """

    refresh_rotates = True

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, *, access_token: str | None = None,
                 expires_at: float | None = None, on_tokens: TokenCallback | None = None,
                 renew_before: float = RENEW_BEFORE) -> None:
        # Without an access token, one that expired long ago: the first call refreshes.
        tokens = TokenSet(access_token or "", expires_at if access_token else 0.0, refresh_token)
        super().__init__(tokens, renew_before=renew_before)
        self.client_id, self._client_secret, self._on_tokens = client_id, client_secret, on_tokens

    def renewal(self, token_endpoint: str) -> httpx.Request:
        assert self.tokens is not None and self.tokens.refresh_token
        form = {"grant_type": "refresh_token", "refresh_token": self.tokens.refresh_token}
        return httpx.Request("POST", token_endpoint, data=form, headers=basic_auth(self.client_id, self._client_secret))

    def _merged(self, tokens: TokenSet) -> TokenSet:
        # RFC 6749 §6: a server may keep the refresh token; Flint always rotates it.
        if tokens.refresh_token is None and self.tokens is not None:
            return TokenSet(tokens.access_token, tokens.expires_at, self.tokens.refresh_token, tokens.scope)
        return tokens

    def callback(self) -> TokenCallback | None:
        return self._on_tokens


class StaticToken(TokenSource):
    """A bearer token used as it is; a 401 is raised, never renewed."""

    renewable = False

    def __init__(self, access_token: str) -> None:
        super().__init__(TokenSet(access_token))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    """``client_secret_basic`` (RFC 6749 §2.3.1: each part form-encoded, then base64)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
