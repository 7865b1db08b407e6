"""The blocking client. :class:`~flint_sdk.async_client.AsyncFlintClient` is the same for asyncio.

    client = FlintClient.for_app(INSTALLS_URL, CLIENT_ID, CLIENT_SECRET,
                                 refresh_token=stored, on_tokens=store.save)
    order = client.orders.get("ord_…")
    for order in client.orders.iterate(payment_status="partially_paid"):
        client.orders.add_note(order.id, "Balance chased")

Every call: finds the service's base URL in the discovery document (fetched once), sends
the current access token (renewed first when stale, and once more on a 401), sends the
operation's ``Idempotency-Key``, retries what is safe to retry (:mod:`flint_sdk.retries`),
and raises a typed :mod:`~flint_sdk.errors` error for an error answer.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx

from flint_sdk import base
from flint_sdk.api.operation import Operation
from flint_sdk.auth import TokenCallback, TokenSet, TokenSource
from flint_sdk.discovery import Discovery, discovery_url
from flint_sdk.models import Page
from flint_sdk.resources import Events, Installs, Invoices, Orders, Refunds

T = TypeVar("T")


class FlintClient:
    """A blocking Flint API client; safe to share between threads. Close it (or use ``with``)."""

    def __init__(self, installs_url: str, auth: TokenSource, *, options: base.ClientOptions | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.options = options or base.ClientOptions()
        self._installs_url = installs_url.rstrip("/")
        self._auth = auth
        self._http = httpx.Client(timeout=self.options.timeout, transport=transport)
        self._discovery: Discovery | None = None
        self._renewing = threading.Lock()
        self.orders = Orders(self)
        self.installs = Installs(self)
        self.refunds = Refunds(self)
        self.invoices = Invoices(self)
        self.events = Events(self)

    @classmethod
    def for_merchant(cls, installs_url: str, merchant_id: str, secret_key: str, *, scope: str | None = None,
                     **kwargs: Any) -> FlintClient:
        """A merchant's own backend (``client_credentials`` with its secret key)."""
        auth = base.token_source(merchant_id=merchant_id, secret_key=secret_key, scope=scope)
        return cls(installs_url, auth, **kwargs)

    @classmethod
    def for_app(cls, installs_url: str, client_id: str, client_secret: str, *, refresh_token: str | None = None,
                tokens: TokenSet | None = None, on_tokens: TokenCallback | None = None, **kwargs: Any) -> FlintClient:
        """An installed app. ``on_tokens`` receives every rotated token set: persist its refresh token."""
        auth = base.app_tokens(client_id, client_secret, refresh_token=refresh_token, tokens=tokens,
                               on_tokens=on_tokens)
        return cls(installs_url, auth, **kwargs)

    @classmethod
    def with_token(cls, installs_url: str, access_token: str, **kwargs: Any) -> FlintClient:
        """A client with a fixed access token (never renewed)."""
        return cls(installs_url, base.token_source(access_token=access_token), **kwargs)

    # --- running operations -----------------------------------------------------------------------

    def run(self, operation: Operation[T]) -> T:
        """Send ``operation`` (retrying as :mod:`flint_sdk.retries` allows) and read its answer."""
        for attempt in self.options.retry.retrying(operation.safe):
            with attempt:
                response = self._send(operation)
        return base.parsed(operation, response)

    def iterate(self, operation: Operation[Page[T]]) -> Iterator[T]:
        """Every item of a list, page after page, while ``has_more``."""
        while True:
            page = self.run(operation)
            yield from page.data
            if not (page.has_more and page.next_cursor):
                return
            operation = operation.next_page(page.next_cursor)

    def _send(self, operation: Operation[Any]) -> httpx.Response:
        discovery = self.discovery()
        token = self._token()
        response = self._request(base.build_request(self._http, discovery, operation, token, self.options.headers))
        if response.status_code == 401 and self._auth.renewable:
            # Revoked or expired early: renew once; a second 401 is raised.
            token = self._renew(stale=token)
            response = self._request(base.build_request(self._http, discovery, operation, token, self.options.headers))
        return base.checked(response)

    def _request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._http.send(request)
        except httpx.TransportError as error:
            raise base.connection_error(error, f"{request.method} {request.url}") from error

    # --- discovery and tokens ---------------------------------------------------------------------

    def discovery(self) -> Discovery:
        """The discovery document (fetched on first use, then kept)."""
        if self._discovery is None:
            for attempt in self.options.retry.retrying(safe=True):
                with attempt:
                    request = self._http.build_request("GET", discovery_url(self._installs_url))
                    response = base.checked(self._request(request))
            self._discovery = Discovery.from_document(response.json()).with_services(self.options.services)
        return self._discovery

    def _token(self) -> str:
        return self._auth.usable() or self._renew(stale=None)

    def _renew(self, stale: str | None) -> str:
        with self._renewing:
            current = self._auth.usable()
            if current is not None and current != stale:
                return current  # another thread renewed it meanwhile
            request = self._auth.renewal(self.discovery().token_endpoint)
            try:
                response = self._http.send(request)
            except httpx.TransportError as error:
                # A refresh the server applied but whose answer was lost has rotated the
                # refresh token: sending the old one again would revoke the install.
                raise base.connection_error(error, "token request", retryable=not self._auth.refresh_rotates) from error
            tokens = self._auth.absorb(base.checked_token_response(response))
            if callback := self._auth.callback():
                if inspect.isawaitable(result := callback(tokens)):
                    result.close()  # type: ignore[attr-defined]
                    raise TypeError("FlintClient's on_tokens must be a plain function (AsyncFlintClient awaits one)")
            return tokens.access_token

    # --- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FlintClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
