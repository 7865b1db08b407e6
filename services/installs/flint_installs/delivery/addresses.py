"""Which IP addresses a webhook may be sent to: public unicast ones only.

A webhook URL is chosen by a plugin developer, and Flint's sender runs inside Flint's
network: without this check anyone could make Flint POST to its own databases, to a cloud
metadata service (credentials), or to a merchant's intranet. An address is refused when it
is, or embeds (IPv4-mapped, NAT64, 6to4, Teredo, IPv4-compatible IPv6), an address that is
not public. Loopback is allowed only in development (``allow_loopback``), for local receivers.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address

# Cloud metadata services (AWS, ECS, GCP, Azure on 169.254.169.254; AWS IPv6; Alibaba). Most
# are link-local anyway; naming them gives the clearer refusal.
METADATA_ADDRESSES = frozenset(
    ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_SHARED_ADDRESS_SPACE = ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_NAT64 = ip_network("64:ff9b::/96")


def address_problem(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why Flint must not connect to ``address`` (e.g. ``"a private address"``), or None."""
    inner = embedded_ipv4(address)
    if inner is not None:
        problem = _problem(inner, allow_loopback)
        if problem is not None:
            return f"{problem} ({inner} inside {address})"
        if isinstance(address, IPv6Address) and (address.ipv4_mapped or address in _NAT64):
            return None  # these reach exactly the IPv4 address just checked
    return _problem(address, allow_loopback)


def reaches_loopback(address: IPAddress) -> bool:
    """True for a loopback address, IPv4-mapped ones (``::ffff:127.0.0.1``) included."""
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries or reaches, if any."""
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if 1 < int(address) <= 0xFFFFFFFF:  # IPv4-compatible ::a.b.c.d (deprecated, still routable by some stacks)
        return IPv4Address(int(address))
    return None


def _problem(address: IPAddress, allow_loopback: bool) -> str | None:
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _SHARED_ADDRESS_SPACE, "a carrier-grade NAT (shared) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    for applies, problem in checks:
        if applies:
            return problem
    return None
