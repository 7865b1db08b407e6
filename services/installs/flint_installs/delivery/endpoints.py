"""Use cases of an install's webhook endpoints, each on the connection of the caller's
transaction. An endpoint or delivery of another install is :class:`NotFound`, like one that
does not exist. The endpoint URL is checked (with DNS) by the caller before the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_WEBHOOK_ENDPOINTS_PER_INSTALL
from flint_contracts.webhooks import new_secret
from flint_installs.delivery import repository
from flint_installs.delivery.model import DISABLED, ENABLED, DeliveryRecord, Sealer, WebhookEndpoint


class NotFound(LookupError):
    """No such endpoint or delivery for this install."""


class TooManyEndpoints(ValueError):
    """The install has as many endpoints as it may."""


class EndpointDisabled(ValueError):
    """The delivery's endpoint is disabled: re-enable it first."""


@dataclass(frozen=True)
class EndpointView:
    """An endpoint with the secrets that sign its deliveries now (hints only)."""

    endpoint: WebhookEndpoint
    secrets: list[tuple[str, datetime, datetime | None]]


async def create(conn: asyncpg.Connection, sealer: Sealer, *, install_id: str, url: str,
                 now: datetime) -> tuple[EndpointView, str]:
    """A new enabled endpoint and its signing secret (``whsec_…``), returned here once."""
    if await repository.count_endpoints_locked(conn, install_id) >= MAX_WEBHOOK_ENDPOINTS_PER_INSTALL:
        raise TooManyEndpoints(f"an install has at most {MAX_WEBHOOK_ENDPOINTS_PER_INSTALL} webhook endpoints")
    endpoint = WebhookEndpoint(id=new_id("whe"), install_id=install_id, url=url, status=ENABLED, created_at=now,
                               updated_at=now)
    await repository.add_endpoint(conn, endpoint)
    secret = new_secret()
    await repository.add_secret(conn, sealer, endpoint.id, secret, now=now)
    return await view(conn, endpoint, now), secret


async def get(conn: asyncpg.Connection, *, install_id: str, endpoint_id: str, now: datetime) -> EndpointView:
    return await view(conn, await _own(conn, install_id, endpoint_id), now)


async def page(conn: asyncpg.Connection, *, install_id: str, after: str | None, limit: int,
               now: datetime) -> tuple[list[EndpointView], bool]:
    found = await repository.endpoints_of(conn, install_id, after=after, limit=limit + 1)
    return [await view(conn, endpoint, now) for endpoint in found[:limit]], len(found) > limit


async def delete(conn: asyncpg.Connection, *, install_id: str, endpoint_id: str) -> None:
    """The endpoint goes with its secrets, its pending deliveries and its log."""
    await _own(conn, install_id, endpoint_id)
    await repository.delete_endpoint(conn, endpoint_id)


async def enable(conn: asyncpg.Connection, *, install_id: str, endpoint_id: str, now: datetime) -> EndpointView:
    """Enabled again (already enabled: unchanged); its pending deliveries go out, in order."""
    endpoint = await _own(conn, install_id, endpoint_id)
    if endpoint.status == DISABLED:
        await repository.enable_endpoint(conn, endpoint_id, now=now)
        endpoint = await _own(conn, install_id, endpoint_id)
    return await view(conn, endpoint, now)


async def rotate_secret(conn: asyncpg.Connection, sealer: Sealer, *, install_id: str, endpoint_id: str,
                        overlap: timedelta, now: datetime) -> tuple[EndpointView, str]:
    """A new secret, returned here once; the ones signing until now keep signing for ``overlap``."""
    endpoint = await _own(conn, install_id, endpoint_id)
    secret = new_secret()
    await repository.add_secret(conn, sealer, endpoint_id, secret, now=now, previous_expire_at=now + overlap)
    return await view(conn, endpoint, now), secret


async def delivery_log(conn: asyncpg.Connection, *, install_id: str, endpoint_id: str, before: str | None,
              limit: int) -> tuple[list[DeliveryRecord], bool]:
    """The endpoint's deliveries, newest first, with every attempt."""
    await _own(conn, install_id, endpoint_id)
    found = await repository.log_page(conn, endpoint_id, before=before, limit=limit + 1)
    return found[:limit], len(found) > limit


async def retry(conn: asyncpg.Connection, *, install_id: str, delivery_id: str, now: datetime) -> DeliveryRecord:
    """Send the delivery again as soon as the earlier events of its order are out, whatever it
    came to (delivered, given up, waiting for a retry)."""
    found = await repository.delivery_of_install(conn, delivery_id, install_id)
    if found is None:
        raise NotFound(delivery_id)
    if found[1] == DISABLED:
        raise EndpointDisabled(f"the endpoint of {delivery_id} is disabled; re-enable it first")
    await repository.retry_now(conn, delivery_id, now=now)
    again = await repository.delivery_of_install(conn, delivery_id, install_id)
    assert again is not None
    return again[0]


async def view(conn: asyncpg.Connection, endpoint: WebhookEndpoint, now: datetime) -> EndpointView:
    return EndpointView(endpoint, await repository.secret_hints(conn, endpoint.id, now=now))


async def _own(conn: asyncpg.Connection, install_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(conn, endpoint_id)
    if endpoint is None or endpoint.install_id != install_id:
        raise NotFound(endpoint_id)
    return endpoint
