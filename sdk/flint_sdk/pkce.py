"""Installing an app: OAuth 2.0 authorization code with PKCE (RFC 7636, S256 only).

    flow = InstallFlow(INSTALLS_URL, CLIENT_ID, CLIENT_SECRET, "https://app.example/callback")
    pending = flow.start(["orders:read", "orders:write"])
    # keep `pending` in the merchant's session, send their browser to pending.authorize_url
    ...
    tokens = flow.finish(pending, request_url)   # the URL Flint redirected back to
    client = FlintClient.for_app(INSTALLS_URL, CLIENT_ID, CLIENT_SECRET, tokens=tokens, on_tokens=save)

``start`` makes a fresh ``state`` (against CSRF on the redirect URI) and a PKCE verifier
with its S256 challenge, and builds the authorize URL. ``finish`` checks the redirect: the
``state`` must be the one sent (compared in constant time), an ``error`` is raised as
:class:`InstallDenied`, an ``iss`` must be Flint's issuer (RFC 9207); then it exchanges the
code at ``/oauth/token`` with the verifier. A code works once, within 60 seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from flint_sdk.auth import TokenSet, basic_auth
from flint_sdk.base import checked, checked_token_response, connection_error
from flint_sdk.discovery import Discovery, discovery_url
from flint_sdk.errors import FlintError


class InstallError(FlintError):
    """The redirect back from Flint cannot complete the install."""


class StateMismatch(InstallError):
    """The redirect's ``state`` is not the one this install sent: a forged or stale redirect."""


class InstallDenied(InstallError):
    """Flint redirected with an error (the merchant denied, or the request was invalid)."""

    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error, self.description = error, description


def code_verifier() -> str:
    """A PKCE code verifier: 86 URL-safe characters (512 random bits; RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """An unguessable ``state`` (256 random bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class PendingInstall:
    """What the app keeps between sending the merchant to Flint and the redirect back.

    Store it server-side (the merchant's session): the verifier must never reach the browser.
    """

    authorize_url: str
    state: str
    redirect_uri: str
    code_verifier: str = field(repr=False)


def start_install(authorization_endpoint: str, client_id: str, redirect_uri: str,
                  scopes: Iterable[str] | None = None) -> PendingInstall:
    """A fresh state and PKCE pair, and the authorize URL carrying them."""
    state, verifier = new_state(), code_verifier()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
              "code_challenge": code_challenge(verifier), "code_challenge_method": "S256"}
    if scopes is not None:
        params["scope"] = " ".join(scopes)
    separator = "&" if urlsplit(authorization_endpoint).query else "?"
    return PendingInstall(f"{authorization_endpoint}{separator}{urlencode(params)}", state, redirect_uri, verifier)


def authorization_code(pending: PendingInstall, callback: str | Mapping[str, str], *, issuer: str | None = None) -> str:
    """The code of a redirect back to the app, after checking its ``state``, ``error`` and ``iss``.

    ``callback`` is the whole URL the browser came back to, or its query parameters.
    """
    params = _params(callback)
    if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
        raise StateMismatch("the redirect's state is not the one this install sent")
    if issuer is not None and "iss" in params and params["iss"].rstrip("/") != issuer.rstrip("/"):
        raise InstallError(f"the redirect comes from issuer {params['iss']!r}, not {issuer!r}")
    if "error" in params:
        raise InstallDenied(params["error"], params.get("error_description"))
    if not params.get("code"):
        raise InstallError("the redirect carries no code")
    return params["code"]


def code_exchange(token_endpoint: str, client_id: str, client_secret: str, code: str,
                  pending: PendingInstall) -> httpx.Request:
    """The ``/oauth/token`` request trading ``code`` (with the verifier) for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier}
    return httpx.Request("POST", token_endpoint, data=form, headers=basic_auth(client_id, client_secret))


def _params(callback: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(callback, str):
        query = urlsplit(callback).query if "?" in callback or "://" in callback else callback
        parsed = parse_qs(query, keep_blank_values=True)
        repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
        if repeated:
            raise InstallError(f"the redirect repeats {', '.join(repeated)}")
        return {name: values[0] for name, values in parsed.items()}
    return dict(callback)


class InstallFlow:
    """The install, for a blocking web app: :meth:`start`, then :meth:`finish` on the redirect."""

    def __init__(self, installs_url: str, client_id: str, client_secret: str, redirect_uri: str, *,
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self._installs_url, self.client_id, self._client_secret = installs_url, client_id, client_secret
        self.redirect_uri = redirect_uri
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._discovery: Discovery | None = None

    def discovery(self) -> Discovery:
        if self._discovery is None:
            response = checked(self._send(self._http.build_request("GET", discovery_url(self._installs_url))))
            self._discovery = Discovery.from_document(response.json())
        return self._discovery

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._http.send(request)
        except httpx.TransportError as error:
            raise connection_error(error, f"{request.method} {request.url}", retryable=False) from error

    def start(self, scopes: Iterable[str] | None = None) -> PendingInstall:
        """A new install attempt; ``scopes`` default to every scope the app registered."""
        return start_install(self.discovery().authorization_endpoint, self.client_id, self.redirect_uri, scopes)

    def finish(self, pending: PendingInstall, callback: str | Mapping[str, str]) -> TokenSet:
        """Check the redirect and exchange its code; raises :class:`InstallError` or ``OAuthError``."""
        discovery = self.discovery()
        code = authorization_code(pending, callback, issuer=discovery.issuer)
        request = code_exchange(discovery.token_endpoint, self.client_id, self._client_secret, code, pending)
        return TokenSet.from_response(checked_token_response(self._send(request)).json())

    def close(self) -> None:
        self._http.close()


class AsyncInstallFlow:
    """:class:`InstallFlow` for asyncio web apps."""

    def __init__(self, installs_url: str, client_id: str, client_secret: str, redirect_uri: str, *,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._installs_url, self.client_id, self._client_secret = installs_url, client_id, client_secret
        self.redirect_uri = redirect_uri
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._discovery: Discovery | None = None

    async def discovery(self) -> Discovery:
        if self._discovery is None:
            request = self._http.build_request("GET", discovery_url(self._installs_url))
            response = checked(await self._send(request))
            self._discovery = Discovery.from_document(response.json())
        return self._discovery

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._http.send(request)
        except httpx.TransportError as error:
            raise connection_error(error, f"{request.method} {request.url}", retryable=False) from error

    async def start(self, scopes: Iterable[str] | None = None) -> PendingInstall:
        """A new install attempt; ``scopes`` default to every scope the app registered."""
        discovery = await self.discovery()
        return start_install(discovery.authorization_endpoint, self.client_id, self.redirect_uri, scopes)

    async def finish(self, pending: PendingInstall, callback: str | Mapping[str, str]) -> TokenSet:
        """Check the redirect and exchange its code; raises :class:`InstallError` or ``OAuthError``."""
        discovery = await self.discovery()
        code = authorization_code(pending, callback, issuer=discovery.issuer)
        request = code_exchange(discovery.token_endpoint, self.client_id, self._client_secret, code, pending)
        return TokenSet.from_response(checked_token_response(await self._send(request)).json())

    async def aclose(self) -> None:
        await self._http.aclose()
