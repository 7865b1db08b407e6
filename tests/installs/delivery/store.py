"""The delivery tables in a fresh test database, and rows the tests start from."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from flint_chassis.service_secret import ServiceSecret

import flint_installs
from flint_chassis.migrations import CHASSIS_MIGRATIONS, migrate
from flint_contracts.ids import new_id
from flint_installs.delivery import repository
from flint_installs.delivery.model import ENABLED, NewDelivery, WebhookEndpoint

INSTALLS_MIGRATIONS = Path(flint_installs.__file__).parent / "migrations"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def create_tables(conn: asyncpg.Connection) -> None:
    """Every migration of the chassis and the installs service, 0003 (webhook delivery) included."""
    await migrate(conn, [("chassis", CHASSIS_MIGRATIONS), ("installs", INSTALLS_MIGRATIONS)])


def service_secret():
    """The installs service's secret helper, which encrypts endpoint secrets at rest."""
    return ServiceSecret(secrets.token_urlsafe(40), service="installs")


async def add_install(conn: asyncpg.Connection) -> str:
    merchant, app, install = new_id("mer"), new_id("app"), new_id("ins")
    await conn.execute("INSERT INTO merchants (id, name, secret_key_hash, secret_key_hint, created_at) "
                       "VALUES ($1, 'Acme', $2, 'abcd', $3)", merchant, secrets.token_bytes(32), T0)
    await conn.execute("INSERT INTO apps (id, name, client_secret_hash, redirect_uris, scopes, created_at) "
                       "VALUES ($1, 'Helper', $2, '{}', '{orders:read}', $3)", app, secrets.token_bytes(32), T0)
    await conn.execute("INSERT INTO installs (id, merchant_id, app_id, scopes, status, version, created_at, "
                       "updated_at) VALUES ($1, $2, $3, '{orders:read}', 'active', 1, $4, $4)",
                       install, merchant, app, T0)
    return install


async def add_endpoint(conn: asyncpg.Connection, url: str = "https://hooks.example.com/flint") -> WebhookEndpoint:
    endpoint = WebhookEndpoint(id=new_id("whe"), install_id=await add_install(conn), url=url, status=ENABLED,
                               created_at=T0, updated_at=T0)
    await repository.add_endpoint(conn, endpoint)
    return endpoint


async def queue(conn: asyncpg.Connection, endpoint_id: str, order: str, n: int, at: datetime = T0) -> NewDelivery:
    """Queue the event ``{"n": n}`` of ``order`` for the endpoint."""
    delivery = NewDelivery(id=new_id("dlv"), endpoint_id=endpoint_id, event_id=new_id("evt"),
                           event_type="order.updated", ordering_key=order, body=b'{"n": %d}' % n, created_at=at)
    assert await repository.add_delivery(conn, delivery)
    return delivery


@dataclass(frozen=True)
class Installed:
    merchant_id: str
    app_id: str
    install_id: str


async def add_merchant(conn: asyncpg.Connection) -> str:
    merchant = new_id("mer")
    await conn.execute("INSERT INTO merchants (id, name, secret_key_hash, secret_key_hint, created_at) "
                       "VALUES ($1, 'Acme', $2, 'abcd', $3)", merchant, secrets.token_bytes(32), T0)
    return merchant


async def install_app(conn: asyncpg.Connection, merchant_id: str, scopes: tuple[str, ...] = ("orders:read",), *,
                      app_id: str | None = None, created_at: datetime = T0) -> Installed:
    """An app (new unless given) installed by the merchant with ``scopes``, as the install flow leaves it."""
    if app_id is None:
        app_id = new_id("app")
        await conn.execute("INSERT INTO apps (id, name, client_secret_hash, redirect_uris, scopes, created_at) "
                           "VALUES ($1, 'Helper', $2, '{}', $3, $4)", app_id, secrets.token_bytes(32), list(scopes),
                           created_at)
    install = new_id("ins")
    await conn.execute("INSERT INTO installs (id, merchant_id, app_id, scopes, status, version, created_at, "
                       "updated_at) VALUES ($1, $2, $3, $4, 'active', 1, $5, $5)",
                       install, merchant_id, app_id, list(scopes), created_at)
    return Installed(merchant_id, app_id, install)


async def endpoint_of(conn: asyncpg.Connection, install_id: str, url: str = "https://hooks.example.com/flint",
                      status: str = ENABLED) -> str:
    endpoint = WebhookEndpoint(id=new_id("whe"), install_id=install_id, url=url, status=status, created_at=T0,
                               updated_at=T0)
    await repository.add_endpoint(conn, endpoint)
    return endpoint.id

