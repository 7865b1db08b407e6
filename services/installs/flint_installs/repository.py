"""SQL of the installs service and its row mapping. Every function takes the connection of
the caller's unit of work."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from flint_chassis.errors import Conflict
from flint_installs.domain import App, AuthorizationCode, Install, Merchant, RefreshToken

# ---------------------------------------------------------------- merchants
_INSERT_MERCHANT = """
INSERT INTO merchants (id, name, secret_key_hash, secret_key_hint, created_at) VALUES ($1, $2, $3, $4, $5)
"""
_MERCHANT_BY_ID = "SELECT id, name, secret_key_hint, created_at, secret_key_hash FROM merchants WHERE id = $1"
_MERCHANT_BY_KEY = "SELECT id, name, secret_key_hint, created_at FROM merchants WHERE secret_key_hash = $1"


def _merchant(row: asyncpg.Record) -> Merchant:
    return Merchant(id=row["id"], name=row["name"], secret_key_hint=row["secret_key_hint"], created_at=row["created_at"])


async def add_merchant(conn: asyncpg.Connection, merchant: Merchant, secret_key_hash: bytes) -> None:
    await conn.execute(_INSERT_MERCHANT, merchant.id, merchant.name, secret_key_hash, merchant.secret_key_hint,
                       merchant.created_at)


async def merchant_with_key_hash(conn: asyncpg.Connection, merchant_id: str) -> tuple[Merchant, bytes] | None:
    row = await conn.fetchrow(_MERCHANT_BY_ID, merchant_id)
    return (_merchant(row), bytes(row["secret_key_hash"])) if row else None


async def merchant_by_key_hash(conn: asyncpg.Connection, secret_key_hash: bytes) -> Merchant | None:
    row = await conn.fetchrow(_MERCHANT_BY_KEY, secret_key_hash)
    return _merchant(row) if row else None


async def get_merchant(conn: asyncpg.Connection, merchant_id: str) -> Merchant | None:
    found = await merchant_with_key_hash(conn, merchant_id)
    return found[0] if found else None


# ---------------------------------------------------------------- apps
_INSERT_APP = """
INSERT INTO apps (id, name, client_secret_hash, redirect_uris, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)
"""
_APP_BY_ID = "SELECT id, name, redirect_uris, scopes, created_at, client_secret_hash FROM apps WHERE id = $1"


def _app(row: asyncpg.Record) -> App:
    return App(id=row["id"], name=row["name"], redirect_uris=tuple(row["redirect_uris"]), scopes=tuple(row["scopes"]),
               created_at=row["created_at"])


async def add_app(conn: asyncpg.Connection, app: App, client_secret_hash: bytes) -> None:
    await conn.execute(_INSERT_APP, app.id, app.name, client_secret_hash, list(app.redirect_uris), list(app.scopes),
                       app.created_at)


async def app_with_secret_hash(conn: asyncpg.Connection, app_id: str) -> tuple[App, bytes] | None:
    row = await conn.fetchrow(_APP_BY_ID, app_id)
    return (_app(row), bytes(row["client_secret_hash"])) if row else None


async def get_app(conn: asyncpg.Connection, app_id: str) -> App | None:
    found = await app_with_secret_hash(conn, app_id)
    return found[0] if found else None


# ---------------------------------------------------------------- installs
_INSTALL_COLUMNS = "id, merchant_id, app_id, scopes, status, version, created_at, updated_at, uninstalled_at"
_INSERT_INSTALL = f"""
INSERT INTO installs ({_INSTALL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_UPDATE_INSTALL = """
UPDATE installs SET scopes = $2, status = $3, version = $4, updated_at = $5, uninstalled_at = $6
WHERE id = $1 AND version = $7
"""
_INSTALL_BY_ID = f"SELECT {_INSTALL_COLUMNS} FROM installs WHERE id = $1"
_INSTALL_BY_ID_FOR_UPDATE = _INSTALL_BY_ID + " FOR UPDATE"
_ACTIVE_INSTALL_FOR_UPDATE = f"""
SELECT {_INSTALL_COLUMNS} FROM installs WHERE merchant_id = $1 AND app_id = $2 AND status = 'active' FOR UPDATE
"""
_INSTALLS_OF_MERCHANT = f"""
SELECT {_INSTALL_COLUMNS} FROM installs
WHERE merchant_id = $1 AND ($2::text IS NULL OR id > $2) AND ($3::text IS NULL OR status = $3)
ORDER BY id LIMIT $4
"""


def _install(row: asyncpg.Record) -> Install:
    return Install(id=row["id"], merchant_id=row["merchant_id"], app_id=row["app_id"], scopes=tuple(row["scopes"]),
                   status=row["status"], version=row["version"], created_at=row["created_at"],
                   updated_at=row["updated_at"], uninstalled_at=row["uninstalled_at"])


class ConcurrentChange(Conflict):
    """The row changed since it was loaded; the caller retries (over HTTP: a 409)."""


async def add_install(conn: asyncpg.Connection, install: Install) -> None:
    await conn.execute(_INSERT_INSTALL, install.id, install.merchant_id, install.app_id, list(install.scopes),
                       install.status, install.version, install.created_at, install.updated_at, install.uninstalled_at)


async def save_install(conn: asyncpg.Connection, install: Install, loaded_version: int) -> None:
    result = await conn.execute(_UPDATE_INSTALL, install.id, list(install.scopes), install.status, install.version,
                                install.updated_at, install.uninstalled_at, loaded_version)
    if result != "UPDATE 1":
        raise ConcurrentChange(f"install {install.id} changed concurrently")


async def get_install(conn: asyncpg.Connection, install_id: str, *, for_update: bool = False) -> Install | None:
    row = await conn.fetchrow(_INSTALL_BY_ID_FOR_UPDATE if for_update else _INSTALL_BY_ID, install_id)
    return _install(row) if row else None


async def active_install_for_update(conn: asyncpg.Connection, merchant_id: str, app_id: str) -> Install | None:
    row = await conn.fetchrow(_ACTIVE_INSTALL_FOR_UPDATE, merchant_id, app_id)
    return _install(row) if row else None


async def installs_of_merchant(
    conn: asyncpg.Connection, merchant_id: str, *, starting_after: str | None, status: str | None, limit: int
) -> list[Install]:
    return [_install(r) for r in await conn.fetch(_INSTALLS_OF_MERCHANT, merchant_id, starting_after, status, limit)]


# ---------------------------------------------------------------- authorization codes
_INSERT_CODE = """
INSERT INTO authorization_codes (code_hash, app_id, merchant_id, install_id, redirect_uri, scopes, code_challenge,
                                 created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_CODE_FOR_UPDATE = """
SELECT app_id, merchant_id, install_id, redirect_uri, scopes, code_challenge, expires_at, used_at, family_id
FROM authorization_codes WHERE code_hash = $1 FOR UPDATE
"""
_USE_CODE = "UPDATE authorization_codes SET used_at = $2, family_id = $3 WHERE code_hash = $1"
_EXPIRE_CODES_OF_INSTALL = """
UPDATE authorization_codes SET expires_at = least(expires_at, $2) WHERE install_id = $1 AND used_at IS NULL
"""


async def add_code(conn: asyncpg.Connection, code_hash: bytes, code: AuthorizationCode, created_at: datetime) -> None:
    await conn.execute(_INSERT_CODE, code_hash, code.app_id, code.merchant_id, code.install_id, code.redirect_uri,
                       list(code.scopes), code.code_challenge, created_at, code.expires_at)


async def code_for_update(conn: asyncpg.Connection, code_hash: bytes) -> AuthorizationCode | None:
    row = await conn.fetchrow(_CODE_FOR_UPDATE, code_hash)
    if row is None:
        return None
    return AuthorizationCode(**{**dict(row), "scopes": tuple(row["scopes"])})


async def mark_code_used(conn: asyncpg.Connection, code_hash: bytes, now: datetime, family_id: str) -> None:
    await conn.execute(_USE_CODE, code_hash, now, family_id)


async def expire_codes_of_install(conn: asyncpg.Connection, install_id: str, now: datetime) -> None:
    await conn.execute(_EXPIRE_CODES_OF_INSTALL, install_id, now)


# ---------------------------------------------------------------- refresh tokens
_INSERT_REFRESH = """
INSERT INTO refresh_tokens (token_hash, family_id, app_id, merchant_id, install_id, scopes, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_REFRESH_FOR_UPDATE = """
SELECT family_id, app_id, merchant_id, install_id, scopes, expires_at, used_at, revoked_at
FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE
"""
_USE_REFRESH = "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1"
_REVOKE_FAMILY = "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL"
_REVOKE_INSTALL = "UPDATE refresh_tokens SET revoked_at = $2 WHERE install_id = $1 AND revoked_at IS NULL"


async def add_refresh_token(
    conn: asyncpg.Connection, token_hash: bytes, token: RefreshToken, created_at: datetime
) -> None:
    await conn.execute(_INSERT_REFRESH, token_hash, token.family_id, token.app_id, token.merchant_id,
                       token.install_id, list(token.scopes), created_at, token.expires_at)


async def refresh_token_for_update(conn: asyncpg.Connection, token_hash: bytes) -> RefreshToken | None:
    row = await conn.fetchrow(_REFRESH_FOR_UPDATE, token_hash)
    if row is None:
        return None
    return RefreshToken(**{**dict(row), "scopes": tuple(row["scopes"])})


async def mark_refresh_token_used(conn: asyncpg.Connection, token_hash: bytes, now: datetime) -> None:
    await conn.execute(_USE_REFRESH, token_hash, now)


async def revoke_family(conn: asyncpg.Connection, family_id: str, now: datetime) -> None:
    await conn.execute(_REVOKE_FAMILY, family_id, now)


async def revoke_refresh_tokens_of_install(conn: asyncpg.Connection, install_id: str, now: datetime) -> None:
    await conn.execute(_REVOKE_INSTALL, install_id, now)


# ---------------------------------------------------------------- revoked access tokens
_REVOKE_ACCESS = "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
_ACCESS_REVOKED = "SELECT 1 FROM revoked_access_tokens WHERE jti = $1"


async def revoke_access_token(conn: asyncpg.Connection, jti: str, expires_at: datetime) -> None:
    await conn.execute(_REVOKE_ACCESS, jti, expires_at)


async def access_token_revoked(conn: asyncpg.Connection, jti: str) -> bool:
    return await conn.fetchval(_ACCESS_REVOKED, jti) is not None


# ---------------------------------------------------------------- signing keys
_SIGNING_KEYS = "SELECT kid, public_jwk, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at"
_INSERT_KEY = """
INSERT INTO signing_keys (kid, public_jwk, private_key, created_at) VALUES ($1, $2::jsonb, $3, $4)
"""
_RETIRE_KEYS = "UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL"
_KEYS_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('flint_installs:signing_keys', 0))"


async def signing_keys(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [
        {**dict(r), "public_jwk": json.loads(r["public_jwk"]), "private_key": bytes(r["private_key"])}
        for r in await conn.fetch(_SIGNING_KEYS)
    ]


async def lock_signing_keys(conn: asyncpg.Connection) -> None:
    """Serializes key creation across replicas for the rest of the transaction."""
    await conn.execute(_KEYS_LOCK)


async def add_signing_key(
    conn: asyncpg.Connection, kid: str, public_jwk: dict[str, Any], sealed_private_key: bytes, now: datetime
) -> None:
    await conn.execute(_INSERT_KEY, kid, json.dumps(public_jwk), sealed_private_key, now)
    await conn.execute(_RETIRE_KEYS, kid, now)


# ---------------------------------------------------------------- housekeeping
_PURGES = (
    "DELETE FROM authorization_codes WHERE expires_at < $1::timestamptz - interval '1 day'",
    "DELETE FROM refresh_tokens WHERE expires_at < $1::timestamptz OR revoked_at < $1::timestamptz - interval '30 days'",
    "DELETE FROM revoked_access_tokens WHERE expires_at < $1::timestamptz",
)
async def purge_expired(conn: asyncpg.Connection, now: datetime) -> None:
    for statement in _PURGES:
        await conn.execute(statement, now)
