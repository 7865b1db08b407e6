"""The asyncio client: :class:`~flint_sdk.client.FlintClient`'s calls, awaited.

    async with AsyncFlintClient.for_app(INSTALLS_URL, CLIENT_ID, CLIENT_SECRET,
                                        refresh_token=stored, on_tokens=store.save) as client:
        order = await client.orders.get("ord_…")
        async for entry in client.orders.iterate_timeline(order.id):
            print(entry.sequence, entry.type)

``on_tokens`` may be a plain function or a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx

from flint_sdk import base
from flint_sdk.api.operation import Operation
from flint_sdk.async_resources import Events, Installs, Invoices, Orders, Refunds
from flint_sdk.auth import TokenCallback, TokenSet, TokenSource
from flint_sdk.discovery import Discovery, discovery_url
from flint_sdk.models import Page

T = TypeVar("T")


class AsyncFlintClient:
    """An asyncio Flint API client, for one event loop. Close it (or use ``async with``)."""

    def __init__(self, installs_url: str, auth: TokenSource, *, options: base.ClientOptions | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options or base.ClientOptions()
        self._installs_url = installs_url.rstrip("/")
        self._auth = auth
        self._http = httpx.AsyncClient(timeout=self.options.timeout, transport=transport)
        self._discovery: Discovery | None = None
        self._renewing = asyncio.Lock()
        self.orders = Orders(self)
        self.installs = Installs(self)
        self.refunds = Refunds(self)
        self.invoices = Invoices(self)
        self.events = Events(self)

    @classmethod
    def for_merchant(cls, installs_url: str, merchant_id: str, secret_key: str, *, scope: str | None = None,
                     **kwargs: Any) -> AsyncFlintClient:
        """A merchant's own backend (``client_credentials`` with its secret key)."""
        auth = base.token_source(merchant_id=merchant_id, secret_key=secret_key, scope=scope)
        return cls(installs_url, auth, **kwargs)

    @classmethod
    def for_app(cls, installs_url: str, client_id: str, client_secret: str, *, refresh_token: str | None = None,
                tokens: TokenSet | None = None, on_tokens: TokenCallback | None = None,
                **kwargs: Any) -> AsyncFlintClient:
        """An installed app. ``on_tokens`` receives every rotated token set: persist its refresh token."""
        auth = base.app_tokens(client_id, client_secret, refresh_token=refresh_token, tokens=tokens,
                               on_tokens=on_tokens)
        return cls(installs_url, auth, **kwargs)

    @classmethod
    def with_token(cls, installs_url: str, access_token: str, **kwargs: Any) -> AsyncFlintClient:
        """A client with a fixed access token (never renewed)."""
        return cls(installs_url, base.token_source(access_token=access_token), **kwargs)

    # --- running operations -----------------------------------------------------------------------

    async def run(self, operation: Operation[T]) -> T:
        """Send ``operation`` (retrying as :mod:`flint_sdk.retries` allows) and read its answer."""
        async for attempt in self.options.retry.async_retrying(operation.safe):
            with attempt:
                response = await self._send(operation)
        return base.parsed(operation, response)

    async def iterate(self, operation: Operation[Page[T]]) -> AsyncIterator[T]:
        """Every item of a list, page after page, while ``has_more``."""
        while True:
            page = await self.run(operation)
            for item in page.data:
                yield item
            if not (page.has_more and page.next_cursor):
                return
            operation = operation.next_page(page.next_cursor)

    async def _send(self, operation: Operation[Any]) -> httpx.Response:
        discovery = await self.discovery()
        token = await self._token()
        response = await self._request(
            base.build_request(self._http, discovery, operation, token, self.options.headers))
        if response.status_code == 401 and self._auth.renewable:
            # Revoked or expired early: renew once; a second 401 is raised.
            token = await self._renew(stale=token)
            response = await self._request(
                base.build_request(self._http, discovery, operation, token, self.options.headers))
        return base.checked(response)

    async def _request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._http.send(request)
        except httpx.TransportError as error:
            raise base.connection_error(error, f"{request.method} {request.url}") from error

    # --- discovery and tokens ---------------------------------------------------------------------

    async def discovery(self) -> Discovery:
        """The discovery document (fetched on first use, then kept)."""
        if self._discovery is None:
            async for attempt in self.options.retry.async_retrying(safe=True):
                with attempt:
                    request = self._http.build_request("GET", discovery_url(self._installs_url))
                    response = base.checked(await self._request(request))
            self._discovery = Discovery.from_document(response.json()).with_services(self.options.services)
        return self._discovery

    async def _token(self) -> str:
        return self._auth.usable() or await self._renew(stale=None)

    async def _renew(self, stale: str | None) -> str:
        async with self._renewing:
            current = self._auth.usable()
            if current is not None and current != stale:
                return current  # another task renewed it while this one waited
            request = self._auth.renewal((await self.discovery()).token_endpoint)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                # A refresh the server applied but whose answer was lost has rotated the
                # refresh token: sending the old one again would revoke the install.
                raise base.connection_error(error, "token request", retryable=not self._auth.refresh_rotates) from error
            tokens = self._auth.absorb(base.checked_token_response(response))
            if callback := self._auth.callback():
                result = callback(tokens)
                if inspect.isawaitable(result):
                    await result
            return tokens.access_token

    # --- lifetime ---------------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncFlintClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
