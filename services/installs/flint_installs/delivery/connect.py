"""The sender's connection step: resolve, check, then connect to the checked address.

httpcore opens every connection through a network backend's ``connect_tcp(host, port)``.
This backend resolves ``host`` itself, refuses it unless every address is allowed, and hands
the inner backend an IP address it checked, never the name, so nothing resolves the name a
second time. The request's ``Host`` header and the TLS server name (SNI, certificate check)
still come from the URL, which httpcore keeps separately from the address it connects to.
"""

from __future__ import annotations

import asyncio
import typing

import httpcore

from flint_installs.delivery.resolver import Resolver, resolve_checked


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to addresses the URL policy allows.

    ``scheme`` is that of the pool using it (``http`` pools reach loopback addresses only).
    """

    def __init__(self, resolver: Resolver, *, scheme: str, allow_loopback: bool,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._resolver = resolver
        self._scheme = scheme
        self._allow_loopback = allow_loopback
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_checked(self._scheme, host, port, self._resolver,
                                                  allow_loopback=self._allow_loopback)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s") from None
        failure: Exception | None = None
        for address in addresses:  # all checked; try each, like any client does
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never sent to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
