"""The JSON API (``/v1``) and the discovery documents (``/.well-known``).

Who may call what:
- the platform admin key (``Authorization: Bearer $FLINT_ADMIN_KEY``): create merchants, register apps;
- a merchant token (``client_credentials`` with the merchant's secret key): list and uninstall installs;
- an app token (from the install flow): read its own install.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flint_chassis.auth import Principal
from flint_chassis.http import (
    DEFAULT_LIMIT,
    IdempotencyKey,
    Limit,
    ServiceHttp,
    StartingAfter,
    json_response,
    service_http,
)
from flint_chassis.http.lists import invalid_cursor
from flint_chassis.problems import NOT_FOUND, Problem, problem_type
from flint_contracts.event_types import SCOPES
from flint_contracts.ids import id_pattern
from flint_contracts.limits import MAX_NAME_LENGTH
from flint_installs import handlers
from flint_installs.context import ServiceContext
from flint_installs.credentials import same_text
from flint_contracts.literals import AUDIENCES
from flint_installs.domain import (
    App,
    Install,
    InstallStatus,
    Merchant,
    redirect_uri_problem,
    unknown_scopes,
)

router = APIRouter()
_admin_bearer = HTTPBearer(auto_error=False, scheme_name="adminKey",
                           description="The platform admin key (FLINT_ADMIN_KEY).")
INVALID_ADMIN_KEY = problem_type("invalid_admin_key", 401, "Unauthorized", "This call needs the platform admin key.")
WRONG_TOKEN_KIND = problem_type(
    "wrong_token_kind", 403, "Forbidden", "This call needs another kind of token (a merchant's, or an app's).")
MAX_REDIRECT_URI_LENGTH = 2000


async def context(request: Request) -> ServiceContext:
    return request.app.state.installs


Context = Annotated[ServiceContext, Depends(context)]


# ---------------------------------------------------------------- models
class MerchantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="The merchant's display name.",
                      examples=["Acme Outdoor"])


class MerchantCreated(BaseModel):
    object: Literal["merchant"] = "merchant"
    id: str = Field(examples=["mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K"])
    name: str
    secret_key: str = Field(description="The merchant's secret key. Shown only in this response; Flint keeps a hash.")
    secret_key_hint: str = Field(description="The key's last four characters.")
    created_at: datetime

    @classmethod
    def of(cls, merchant: Merchant, secret_key: str) -> MerchantCreated:
        return cls(id=merchant.id, name=merchant.name, secret_key=secret_key,
                   secret_key_hint=merchant.secret_key_hint, created_at=merchant.created_at)


class AppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="Shown to merchants on the consent page.",
                      examples=["Refund Helper"])
    redirect_uris: list[Annotated[str, Field(min_length=1, max_length=MAX_REDIRECT_URI_LENGTH)]] = Field(
        min_length=1, max_length=10, description=(
            "Where merchants are sent back after consent. Matched exactly. https, or http on localhost/127.0.0.1."),
        examples=[["https://refund-helper.example/oauth/callback"]])
    scopes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=len(SCOPES), description="The scopes the app may ask merchants for.",
        examples=[["orders:read", "refunds:write"]])

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, uris: list[str]) -> list[str]:
        problems = [f"{uri!r} {why}" for uri in uris if (why := redirect_uri_problem(uri))]
        if problems:
            raise ValueError("; ".join(problems))
        return uris

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        if unknown := unknown_scopes(scopes):
            raise ValueError(f"unknown scope {', '.join(unknown)}; known: {', '.join(SCOPES)}")
        return scopes


class AppCreated(BaseModel):
    object: Literal["app"] = "app"
    id: str = Field(examples=["app_01JD3Z5Y1B2C3D4E5F6G7H8J9K"])
    client_id: str = Field(description="The OAuth client_id (the app id).")
    client_secret: str = Field(description="The OAuth client secret. Shown only in this response; Flint keeps a hash.")
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, app: App, client_secret: str) -> AppCreated:
        return cls(id=app.id, client_id=app.client_id, client_secret=client_secret, name=app.name,
                   redirect_uris=list(app.redirect_uris), scopes=list(app.scopes), created_at=app.created_at)


class InstallOut(BaseModel):
    object: Literal["install"] = "install"
    id: str = Field(examples=["ins_01JD3Z5Y1B2C3D4E5F6G7H8J9K"])
    merchant_id: str
    app_id: str
    scopes: list[str] = Field(description="The scopes the merchant granted.")
    status: InstallStatus
    created_at: datetime
    updated_at: datetime
    uninstalled_at: datetime | None

    @classmethod
    def of(cls, install: Install) -> InstallOut:
        return cls(id=install.id, merchant_id=install.merchant_id, app_id=install.app_id, scopes=list(install.scopes),
                   status=install.status, created_at=install.created_at, updated_at=install.updated_at,
                   uninstalled_at=install.uninstalled_at)


class InstallList(BaseModel):
    object: Literal["list"] = "list"
    data: list[InstallOut]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `starting_after` for the next page; null on the last.")


# ---------------------------------------------------------------- who is calling
async def require_admin(
    ctx: Context, credentials: HTTPAuthorizationCredentials | None = Depends(_admin_bearer)
) -> str:
    expected = ctx.settings.admin_key.get_secret_value() if ctx.settings.admin_key else None
    if credentials is None or expected is None or not same_text(credentials.credentials, expected):
        raise Problem(INVALID_ADMIN_KEY, "this call needs the platform admin key",
                      headers={"WWW-Authenticate": 'Bearer realm="flint-admin"'})
    return "admin"


def _require_kind(principal: Principal, kind: str) -> Principal:
    if principal.kind != kind:
        raise Problem(WRONG_TOKEN_KIND, f"this call needs a {kind} token")
    return principal


_user_bearer = HTTPBearer(auto_error=False, scheme_name="token", description="An access token from POST /oauth/token.")


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_user_bearer)
) -> Principal:
    """The chassis Authenticator, as every service verifies tokens (here with this service's own keys)."""
    ctx: ServiceContext = request.app.state.installs
    return await ctx.authenticator.require().dependency(request, credentials)


async def merchant_principal(principal: Principal = Depends(_principal)) -> Principal:
    return _require_kind(principal, "merchant")


async def app_principal(principal: Principal = Depends(_principal)) -> Principal:
    return _require_kind(principal, "app")


Edge = Annotated[ServiceHttp, Depends(service_http)]
InstallId = Annotated[str, Path(pattern=id_pattern("ins"), max_length=30, examples=["ins_01JD3Z5Y1B2C3D4E5F6G7H8J9K"])]


# ---------------------------------------------------------------- merchants and apps
@router.post("/v1/merchants", status_code=201, response_model=MerchantCreated, tags=["merchants"],
             summary="Create a merchant (platform admin key); its secret key is shown once")
async def create_merchant(
    body: MerchantCreate, request: Request, edge: Edge, owner: str = Depends(require_admin),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A retry with the same `Idempotency-Key` shows the secret key again: the stored answer is
    encrypted at rest."""
    async def action(conn: asyncpg.Connection) -> Response:
        merchant, secret_key = await handlers.create_merchant(conn, body.name)
        return json_response(MerchantCreated.of(merchant, secret_key), 201)

    return await edge.idempotency.run(request, caller=owner, key=idempotency_key, action=action, sealed=True)


@router.post("/v1/apps", status_code=201, response_model=AppCreated, tags=["apps"],
             summary="Register an app (platform admin key); its client secret is shown once")
async def register_app(
    body: AppCreate, request: Request, edge: Edge, owner: str = Depends(require_admin),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A retry with the same `Idempotency-Key` shows the client secret again: the stored answer
    is encrypted at rest."""
    async def action(conn: asyncpg.Connection) -> Response:
        app, client_secret = await handlers.register_app(conn, body.name, body.redirect_uris, body.scopes)
        return json_response(AppCreated.of(app, client_secret), 201)

    return await edge.idempotency.run(request, caller=owner, key=idempotency_key, action=action, sealed=True)


# ---------------------------------------------------------------- installs
@router.get("/v1/installs", response_model=InstallList, tags=["installs"],
            summary="The merchant's installs (merchant token)")
async def list_installs(
    ctx: Context, edge: Edge, principal: Principal = Depends(merchant_principal),
    limit: Limit = DEFAULT_LIMIT,
    starting_after: StartingAfter = None,
    status: Annotated[InstallStatus | None, Query()] = None,
) -> Response:
    after = None
    if starting_after is not None:
        position = edge.cursors.decode("installs", principal.merchant_id, starting_after)
        if len(position) != 1 or not isinstance(position[0], str):
            raise invalid_cursor()
        after = position[0]
    page, has_more = await handlers.list_installs(ctx.pool, principal.merchant_id, starting_after=after,
                                                  status=status, limit=limit)
    cursor = edge.cursors.encode("installs", principal.merchant_id, [page[-1].id]) if has_more else None
    return json_response(InstallList(data=[InstallOut.of(i) for i in page], has_more=has_more, next_cursor=cursor))


@router.post("/v1/installs/{install_id}/uninstall", response_model=InstallOut, tags=["installs"],
             summary="Uninstall an app (merchant token): its tokens, events, webhooks and Kafka access stop")
async def uninstall_app(
    install_id: InstallId, request: Request, ctx: Context, edge: Edge,
    principal: Principal = Depends(merchant_principal), idempotency_key: IdempotencyKey = None,
) -> Response:
    uninstalled: list[str] = []  # the app, when this request (not a replay) uninstalled it

    async def action(conn: asyncpg.Connection) -> Response:
        try:
            install = await handlers.uninstall(conn, merchant_id=principal.merchant_id, install_id=install_id)
        except handlers.NotFound:
            raise Problem(NOT_FOUND, f"no install {install_id} for this merchant") from None
        uninstalled.append(install.app_id)
        return json_response(InstallOut.of(install))

    response = await edge.idempotency.run(request, caller=principal.caller,
                                          key=idempotency_key, action=action)
    for app_id in uninstalled:  # committed: now the broker (routing to the app has already stopped)
        await ctx.installs_changed(app_id)
    return response


@router.get("/v1/install", response_model=InstallOut, tags=["installs"],
            summary="The calling app's own install (app token)")
async def get_own_install(ctx: Context, principal: Principal = Depends(app_principal)) -> InstallOut:
    assert principal.install_id is not None
    return InstallOut.of(await handlers.get_install(ctx.pool, principal.install_id))


# ---------------------------------------------------------------- discovery
@router.get("/.well-known/jwks.json", tags=["discovery"], summary="Public keys that verify access tokens")
async def get_jwks(ctx: Context, response: Response) -> dict[str, Any]:
    assert ctx.keys is not None
    response.headers["Cache-Control"] = "public, max-age=60"
    return {"keys": await ctx.keys.published()}


def discovery_document(ctx: ServiceContext) -> dict[str, Any]:
    issuer = ctx.settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": True,
        "scopes_supported": list(SCOPES),
        "token_signing_alg_values_supported": ["EdDSA"],
        "audiences": list(AUDIENCES),
        "access_token_lifetime": ctx.settings.access_token_ttl,
        "services": ctx.settings.service_urls(),
    }


@router.get("/.well-known/flint-configuration", tags=["discovery"],
            summary="Token endpoint, JWKS and the base URL of every Flint service")
async def get_flint_configuration(ctx: Context) -> dict[str, Any]:
    return discovery_document(ctx)


@router.get("/.well-known/oauth-authorization-server", tags=["discovery"],
            summary="RFC 8414 authorization server metadata (the same document)")
async def get_oauth_metadata(ctx: Context) -> dict[str, Any]:
    return discovery_document(ctx)
