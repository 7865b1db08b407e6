"""Which webhook endpoint URLs Flint accepts: the pure part (no DNS).

An endpoint URL is ``https://`` (``http://`` only in development, and then only to a
loopback address), has a host name or a public IP literal, and carries no credentials
(``user:pass@``) and no fragment. Host names are checked again on every resolution by
:mod:`flint_installs.delivery.resolver`, because a name that pointed at a public address when
the endpoint was created may point at ``127.0.0.1`` when a delivery is sent (DNS rebinding).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import SplitResult, urlsplit

from flint_contracts.limits import MAX_URL_LENGTH
from flint_installs.delivery.addresses import IPAddress, address_problem, reaches_loopback

# Stable codes of each refusal, for the API's problem+json ``code`` and for the delivery log.
URL_INVALID = "url_invalid"
URL_TOO_LONG = "url_too_long"
URL_SCHEME = "url_scheme"
URL_USERINFO = "url_userinfo"
URL_FRAGMENT = "url_fragment"
URL_HOST = "url_host"
URL_ADDRESS = "url_address"
URL_UNRESOLVABLE = "url_unresolvable"

DEFAULT_PORTS = {"https": 443, "http": 80}
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# A last label of digits or hex makes resolvers read the whole name as an IPv4 address in
# one of inet_aton's forms (2130706433, 0x7f.1, 127.1): a disguise, so it is refused.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


class UrlRefused(ValueError):
    """An endpoint URL Flint will not send to; ``code`` is one of the ``URL_*`` constants."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class EndpointUrl:
    """A URL that passed :func:`parse_endpoint_url`, split the way the sender needs it."""

    url: str
    scheme: str
    host: str  # lower-case ASCII; an IPv6 literal without brackets
    port: int
    target: str  # path and query, at least "/"
    address: IPAddress | None  # set when the host is an IP literal

    @property
    def host_header(self) -> str:
        """The ``Host`` header (and what TLS names as the server): the URL's host and non-default port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_endpoint_url(url: str, *, allow_loopback: bool = False) -> EndpointUrl:
    """``url`` split into its parts, or :class:`UrlRefused` saying what is wrong with it.

    ``allow_loopback`` is the development setting: it lets ``http://`` through here, and
    loopback addresses through the address check.
    """
    if not isinstance(url, str) or not url:
        raise UrlRefused(URL_INVALID, "the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(URL_TOO_LONG, f"the URL is longer than {MAX_URL_LENGTH} characters")
    if not _VISIBLE_ASCII.fullmatch(url):
        raise UrlRefused(URL_INVALID, "the URL must be visible ASCII: percent-encode the path, "
                                      "write an international host name in its xn-- form, no spaces")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as error:  # e.g. an unclosed "[" of an IPv6 literal
        raise UrlRefused(URL_INVALID, f"the URL cannot be parsed: {error}") from None
    scheme = _scheme(parts.scheme, allow_loopback)
    if "#" in url:
        raise UrlRefused(URL_FRAGMENT, "the URL must not have a fragment (#…)")
    if "@" in parts.netloc:
        raise UrlRefused(URL_USERINFO, "the URL must not carry a user name or password; "
                                       "check the Flint-Signature header instead")
    host, address = _host(hostname)
    port = _port(parts)
    if address is not None:
        check_addresses(scheme, [address], allow_loopback=allow_loopback)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return EndpointUrl(url=url, scheme=scheme, host=host, port=port, target=target, address=address)


def check_addresses(scheme: str, addresses: Sequence[IPAddress], *, allow_loopback: bool = False) -> None:
    """Refuse the URL unless every address it reaches is allowed (and loopback for ``http``)."""
    for address in addresses:
        problem = address_problem(address, allow_loopback=allow_loopback)
        if problem is not None:
            raise UrlRefused(URL_ADDRESS, f"the URL's host is {problem}: Flint only sends to public addresses")
        if scheme == "http" and not reaches_loopback(address):
            raise UrlRefused(URL_ADDRESS, "http:// is allowed only to a loopback address (development); use https://")


def _scheme(scheme: str, allow_loopback: bool) -> str:
    if scheme == "https" or (scheme == "http" and allow_loopback):
        return scheme
    if scheme == "http":
        raise UrlRefused(URL_SCHEME, "the URL must use https://")
    raise UrlRefused(URL_SCHEME, f"the URL must use https://, not {scheme or 'no scheme'}")


def _host(hostname: str | None) -> tuple[str, IPAddress | None]:
    if not hostname:
        raise UrlRefused(URL_HOST, "the URL has no host")
    try:
        return hostname, ip_address(hostname)
    except ValueError:
        pass
    name = hostname.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UrlRefused(URL_HOST, f"{hostname!r} is not a valid host name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise UrlRefused(URL_HOST, f"{hostname!r} looks like an IP address in an unusual form; "
                                   "write IPv4 addresses as four decimal numbers")
    return hostname, None


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise UrlRefused(URL_INVALID, "the URL's port is not a number from 1 to 65535") from None
    if port == 0:
        raise UrlRefused(URL_INVALID, "the URL's port is not a number from 1 to 65535")
    return port or DEFAULT_PORTS[parts.scheme]
