"""One async function per use case: open a unit of work, load, call the domain, commit.

Use cases behind an ``Idempotency-Key`` (create a merchant, register an app, uninstall)
take the connection of the transaction the chassis' ``Idempotency.run`` opened, so what they create and
the stored response commit together. Install events go to the outbox in the same
transaction as the install they describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from flint_chassis import outbox
from flint_contracts.event_types import MERCHANT_CREATED
from flint_contracts.events import MerchantData, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.topics import INSTALLS_EVENTS
from flint_installs import repository
from flint_installs.credentials import hash_secret, new_secret, same_secret
from flint_installs.delivery import repository as delivery_repository
from flint_installs.delivery import routing_repository
from flint_installs.kafka import repository as kafka_access
from flint_installs.domain import (
    SOURCE,
    App,
    AuthorizationCode,
    AuthorizationRequest,
    CodeReplayed,
    Install,
    Merchant,
    OAuthError,
    RefreshToken,
    RefreshTokenReused,
    ordered_scopes,
    requested_scopes,
)
from flint_installs.tokens import IssuedToken, LocalVerifier, TokenIssuer


class NotFound(LookupError):
    """The thing does not exist, or belongs to someone else (the caller cannot tell which)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenGrant:
    access: IssuedToken
    refresh_token: str | None = None

    def response(self) -> dict[str, Any]:
        """The token response of RFC 6749 §5.1."""
        body: dict[str, Any] = {
            "access_token": self.access.token,
            "token_type": "Bearer",
            "expires_in": self.access.expires_in,
            "scope": " ".join(self.access.scopes),
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


# ---------------------------------------------------------------- merchants and apps
async def create_merchant(conn: asyncpg.Connection, name: str) -> tuple[Merchant, str]:
    """A merchant and its secret key; the key is returned here once and stored only as a hash.
    ``merchant.created`` (internal) goes to the outbox with it: the invoicing service shows the
    merchant's name to its buyers."""
    secret_key = new_secret("sk")
    merchant = Merchant(id=new_id("mer"), name=name, secret_key_hint=secret_key[-4:], created_at=utcnow())
    await repository.add_merchant(conn, merchant, hash_secret(secret_key))
    data = MerchantData(merchant_id=merchant.id, name=merchant.name, created_at=merchant.created_at)
    await outbox.enqueue(conn, INSTALLS_EVENTS, build_envelope(MERCHANT_CREATED, data, source=SOURCE,
                                                               time=merchant.created_at))
    return merchant, secret_key


async def register_app(
    conn: asyncpg.Connection, name: str, redirect_uris: Sequence[str], scopes: Sequence[str]
) -> tuple[App, str]:
    """An app (its id is the client_id) and its client secret, shown once and stored as a hash."""
    client_secret = new_secret("cs")
    app = App(id=new_id("app"), name=name, redirect_uris=tuple(dict.fromkeys(redirect_uris)),
              scopes=ordered_scopes(scopes), created_at=utcnow())
    await repository.add_app(conn, app, hash_secret(client_secret))
    return app, client_secret


async def find_app(pool: asyncpg.Pool, client_id: str | None) -> App | None:
    if not client_id:
        return None
    async with pool.acquire() as conn:
        return await repository.get_app(conn, client_id)


async def authenticate_app(pool: asyncpg.Pool, client_id: str, client_secret: str) -> App | None:
    async with pool.acquire() as conn:
        found = await repository.app_with_secret_hash(conn, client_id)
    if found is None or not same_secret(client_secret, found[1]):
        return None
    return found[0]


async def authenticate_merchant(pool: asyncpg.Pool, secret_key: str, merchant_id: str | None = None) -> Merchant | None:
    """The merchant owning ``secret_key``; when ``merchant_id`` is given, only if the key is that merchant's."""
    async with pool.acquire() as conn:
        if merchant_id is None:
            return await repository.merchant_by_key_hash(conn, hash_secret(secret_key))
        found = await repository.merchant_with_key_hash(conn, merchant_id)
    if found is None or not same_secret(secret_key, found[1]):
        return None
    return found[0]


async def get_merchant(pool: asyncpg.Pool, merchant_id: str) -> Merchant | None:
    async with pool.acquire() as conn:
        return await repository.get_merchant(conn, merchant_id)


# ---------------------------------------------------------------- authorization
async def approve(
    pool: asyncpg.Pool, *, merchant_id: str, app: App, request: AuthorizationRequest, scopes: Sequence[str],
    code_ttl: timedelta,
) -> str:
    """The merchant approved: install (or re-grant) the app and return a single-use code."""
    for attempt in range(3):
        try:
            async with pool.acquire() as conn, conn.transaction():
                install = await _grant_install(conn, merchant_id, app.id, scopes)
                return await _new_code(conn, install, request, code_ttl)
        except asyncpg.UniqueViolationError:
            # Two approvals of a first install raced; the loser finds the winner's install.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _grant_install(conn: asyncpg.Connection, merchant_id: str, app_id: str, scopes: Sequence[str]) -> Install:
    now = utcnow()
    install = await repository.active_install_for_update(conn, merchant_id, app_id)
    if install is None:
        install = Install.create(merchant_id, app_id, scopes, now)
        await repository.add_install(conn, install)
        await kafka_access.decide(conn, app_id, now)  # the app's first install lets it read its topic
    else:
        loaded_version = install.version
        install.grant(scopes, now)
        if install.version != loaded_version:
            await repository.save_install(conn, install, loaded_version)
    await _publish(conn, install)
    return install


async def _new_code(conn: asyncpg.Connection, install: Install, request: AuthorizationRequest, ttl: timedelta) -> str:
    code = new_secret()
    now = utcnow()
    await repository.add_code(conn, hash_secret(code), AuthorizationCode(
        app_id=install.app_id, merchant_id=install.merchant_id, install_id=install.id,
        redirect_uri=request.redirect_uri or "", scopes=install.scopes, code_challenge=request.code_challenge or "",
        expires_at=now + ttl, used_at=None, family_id=None,
    ), now)
    return code


async def _publish(conn: asyncpg.Connection, install: Install) -> None:
    for event in install.pull_events():
        await outbox.enqueue(conn, INSTALLS_EVENTS, event)


# ---------------------------------------------------------------- tokens
async def exchange_code(
    pool: asyncpg.Pool, issuer: TokenIssuer, *, app: App, code: str | None, redirect_uri: str | None,
    code_verifier: str | None, refresh_ttl: timedelta,
) -> TokenGrant:
    """``grant_type=authorization_code``. A replayed code revokes what its first exchange bought."""
    if not code:
        raise OAuthError("invalid_request", "code is required")
    code_hash = hash_secret(code)
    failure: OAuthError | None = None
    async with pool.acquire() as conn, conn.transaction():
        stored = await repository.code_for_update(conn, code_hash)
        if stored is None:
            raise OAuthError("invalid_grant", "unknown authorization code")
        now = utcnow()
        try:
            stored.redeem(client_id=app.id, redirect_uri=redirect_uri, code_verifier=code_verifier, now=now)
        except CodeReplayed as replay:
            # RFC 6749 §4.1.2: a code used twice revokes the tokens it bought; commit that, then refuse.
            if replay.family_id:
                await repository.revoke_family(conn, replay.family_id, now)
            failure = replay
        if failure is None:
            install = await _active_install(conn, stored.install_id)
            scopes = ordered_scopes(set(stored.scopes) & set(install.scopes))
            family_id = new_secret()
            await repository.mark_code_used(conn, code_hash, now, family_id)
            return await _token_pair(conn, issuer, install, scopes, family_id, refresh_ttl)
    raise failure


async def refresh(
    pool: asyncpg.Pool, issuer: TokenIssuer, *, app: App, refresh_token: str | None, scope: str | None,
    refresh_ttl: timedelta,
) -> TokenGrant:
    """``grant_type=refresh_token``: rotate; a reused token revokes its whole family."""
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required")
    token_hash = hash_secret(refresh_token)
    failure: OAuthError | None = None
    async with pool.acquire() as conn, conn.transaction():
        stored = await repository.refresh_token_for_update(conn, token_hash)
        if stored is None:
            raise OAuthError("invalid_grant", "unknown refresh token")
        now = utcnow()
        try:
            stored.rotate(client_id=app.id, now=now)
        except RefreshTokenReused as reuse:
            await repository.revoke_family(conn, reuse.family_id, now)
            failure = reuse
        if failure is None:
            install = await _active_install(conn, stored.install_id)
            granted = ordered_scopes(set(stored.scopes) & set(install.scopes))
            await repository.mark_refresh_token_used(conn, token_hash, now)
            grant = await _token_pair(conn, issuer, install, granted, stored.family_id, refresh_ttl,
                                      access_scopes=requested_scopes(scope, granted))
            return grant
    raise failure


async def _active_install(conn: asyncpg.Connection, install_id: str) -> Install:
    install = await repository.get_install(conn, install_id)
    if install is None or not install.active:
        raise OAuthError("invalid_grant", "the app was uninstalled")
    return install


async def _token_pair(
    conn: asyncpg.Connection, issuer: TokenIssuer, install: Install, scopes: tuple[str, ...], family_id: str,
    refresh_ttl: timedelta, access_scopes: tuple[str, ...] | None = None,
) -> TokenGrant:
    now = utcnow()
    refresh_token = new_secret("rt")
    await repository.add_refresh_token(conn, hash_secret(refresh_token), RefreshToken(
        family_id=family_id, app_id=install.app_id, merchant_id=install.merchant_id, install_id=install.id,
        scopes=scopes, expires_at=now + refresh_ttl, used_at=None, revoked_at=None,
    ), now)
    # Signed inside the transaction: a token is only handed out once what it stands for is committed.
    access = await issuer.issue(merchant_id=install.merchant_id, app_id=install.app_id, install_id=install.id,
                                scopes=access_scopes if access_scopes is not None else scopes)
    return TokenGrant(access, refresh_token)


async def merchant_token(issuer: TokenIssuer, merchant: Merchant, scope: str | None, all_scopes: Sequence[str]) -> TokenGrant:
    """``grant_type=client_credentials``: the merchant's own backend, no refresh token (RFC 6749 §4.4.3)."""
    scopes = requested_scopes(scope, all_scopes)
    return TokenGrant(await issuer.issue(merchant_id=merchant.id, scopes=scopes))


async def revoke(
    pool: asyncpg.Pool, verifier: LocalVerifier, *, client_id: str, token: str | None, token_type_hint: str | None,
) -> None:
    """RFC 7009: revoke a refresh token (its whole family) or an access token of this client.
    Unknown tokens and tokens of other clients change nothing and are not reported."""
    if not token:
        raise OAuthError("invalid_request", "token is required")
    now = utcnow()
    async with pool.acquire() as conn, conn.transaction():
        if token_type_hint != "access_token":
            stored = await repository.refresh_token_for_update(conn, hash_secret(token))
            if stored is not None:
                if stored.app_id == client_id:
                    await repository.revoke_family(conn, stored.family_id, now)
                return
        claims = await verifier.claims_if_ours(token)
        if claims is None or client_id not in (claims.get("app_id"), claims.get("sub")):
            return
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if expires_at > now:
            await repository.revoke_access_token(conn, str(claims["jti"]), expires_at)


# ---------------------------------------------------------------- installs
async def uninstall(conn: asyncpg.Connection, *, merchant_id: str, install_id: str) -> Install:
    """Uninstall: every refresh token and unused code of the install dies in the same
    transaction, and ``install.uninstalled`` tells every service to refuse its access tokens.

    Delivery stops with it: what was routed to the install but is not on its app's topic yet
    is withdrawn (the install row, locked first, keeps the router from adding more), webhooks
    are no longer claimed, and the app's Kafka read access goes when this was its last
    install (the caller applies that to the broker once this commits)."""
    install = await repository.get_install(conn, install_id, for_update=True)
    if install is None or install.merchant_id != merchant_id:
        raise NotFound(install_id)
    loaded_version = install.version
    now = utcnow()
    if install.uninstall(now):
        await repository.save_install(conn, install, loaded_version)
        await repository.revoke_refresh_tokens_of_install(conn, install.id, now)
        await repository.expire_codes_of_install(conn, install.id, now)
        await routing_repository.withdraw_unpublished(conn, install.id, install.app_id)
        await kafka_access.decide(conn, install.app_id, now)
        await _publish(conn, install)
    return install


async def list_installs(
    pool: asyncpg.Pool, merchant_id: str, *, starting_after: str | None, status: str | None, limit: int
) -> tuple[list[Install], bool]:
    async with pool.acquire() as conn:
        page = await repository.installs_of_merchant(conn, merchant_id, starting_after=starting_after, status=status,
                                                     limit=limit + 1)
    return page[:limit], len(page) > limit


async def get_install(pool: asyncpg.Pool, install_id: str) -> Install:
    async with pool.acquire() as conn:
        install = await repository.get_install(conn, install_id)
    if install is None:
        raise NotFound(install_id)
    return install


async def purge_expired(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await repository.purge_expired(conn, utcnow())


async def purge_delivery_history(pool: asyncpg.Pool, kept_since: datetime) -> None:
    """Forget the event feed and the webhook delivery log from before ``kept_since``."""
    async with pool.acquire() as conn:
        await routing_repository.purge(conn, kept_since)
        await delivery_repository.purge_log(conn, kept_since)
