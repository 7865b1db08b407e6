"""Resolving an endpoint's host and checking every address it resolves to.

The same check runs when an endpoint is created (:func:`check_endpoint_url`) and on every
connection the sender opens (:class:`flint_installs.delivery.connect.GuardedNetworkBackend`),
and the sender connects only to an address this check returned, so a name that changes its
answer between the two (DNS rebinding) is refused at send time. A name with one forbidden
address among several is refused as a whole: which address a client picks is not ours to
predict.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Protocol

from flint_installs.delivery.addresses import IPAddress
from flint_installs.delivery.url_policy import (
    URL_UNRESOLVABLE,
    EndpointUrl,
    UrlRefused,
    check_addresses,
    parse_endpoint_url,
)


class Resolver(Protocol):
    """Turns a host name into the addresses to connect to (tests pass their own)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]: ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), run off the event loop."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses: list[IPAddress] = []
        for *_, sockaddr in infos:
            address = ip_address(str(sockaddr[0]).partition("%")[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


async def resolve_checked(scheme: str, host: str, port: int, resolver: Resolver, *,
                          allow_loopback: bool = False) -> list[IPAddress]:
    """Every address ``host`` resolves to, all of them allowed; else :class:`UrlRefused`."""
    try:
        addresses = [ip_address(host)]
    except ValueError:
        addresses = await _resolve(host, port, resolver)
    check_addresses(scheme, addresses, allow_loopback=allow_loopback)
    return addresses


async def check_endpoint_url(url: str, resolver: Resolver, *, allow_loopback: bool = False) -> EndpointUrl:
    """The creation-time check: the URL's form, then every address its host resolves to now."""
    endpoint = parse_endpoint_url(url, allow_loopback=allow_loopback)
    await resolve_checked(endpoint.scheme, endpoint.host, endpoint.port, resolver, allow_loopback=allow_loopback)
    return endpoint


async def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        addresses = list(await resolver.resolve(host, port))
    except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError
        raise UrlRefused(URL_UNRESOLVABLE, f"{host} does not resolve: {error}") from None
    if not addresses:
        raise UrlRefused(URL_UNRESOLVABLE, f"{host} does not resolve to any address")
    return addresses
