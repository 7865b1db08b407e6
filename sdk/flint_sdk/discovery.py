"""Where Flint's endpoints are: ``GET <installs>/.well-known/flint-configuration``.

A client is given one address, the installs service's. Its discovery document names the
OAuth endpoints and the base URL of every other service (``services``), so a plugin never
hard-codes where orders, refunds or invoicing run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flint_sdk.errors import FlintError

DISCOVERY_PATH = "/.well-known/flint-configuration"
SERVICES = ("installs", "orders", "refunds", "invoicing")


class ServiceNotConfigured(FlintError):
    """The discovery document names no base URL for the service a call needs."""


@dataclass(frozen=True)
class Discovery:
    """The parts of the discovery document the SDK uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    services: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Discovery:
        try:
            issuer = str(document["issuer"]).rstrip("/")
            services = {name: str(url).rstrip("/") for name, url in dict(document.get("services") or {}).items()}
            return cls(
                issuer=issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                revocation_endpoint=document.get("revocation_endpoint"),
                services={"installs": issuer, **services},
            )
        except (KeyError, TypeError, ValueError) as error:
            raise FlintError(f"the discovery document is not Flint's: {error!r} missing or malformed") from None

    def with_services(self, overrides: dict[str, str] | None) -> Discovery:
        """The same endpoints with some service URLs given by the caller."""
        if not overrides:
            return self
        merged = {**self.services, **{name: url.rstrip("/") for name, url in overrides.items()}}
        return Discovery(self.issuer, self.authorization_endpoint, self.token_endpoint, self.revocation_endpoint,
                         merged)

    def base_url(self, service: str) -> str:
        """The base URL of ``service`` (``"orders"``, ``"refunds"`` ...)."""
        try:
            return self.services[service]
        except KeyError:
            raise ServiceNotConfigured(
                f"Flint's discovery document names no {service} service (known: {', '.join(sorted(self.services))})"
            ) from None


def discovery_url(installs_url: str) -> str:
    return installs_url.rstrip("/") + DISCOVERY_PATH
