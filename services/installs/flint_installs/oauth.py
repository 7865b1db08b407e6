"""OAuth 2.0 endpoints: authorization code with PKCE (S256 only), token, revocation.

The browser flow: ``GET /oauth/authorize`` checks the client and its redirect URI first;
until both are trusted, every error is a page on this site, never a redirect (an attacker
must not be able to bounce merchants to a URI of their choosing). Then a merchant without a
session gets the login page (secret key form, ``POST /oauth/login``), a merchant with one
gets the consent page (``POST /oauth/authorize`` with approve or deny). Approval redirects
to the exact registered URI with ``code``, the unchanged ``state`` and ``iss`` (RFC 9207);
denial with ``error=access_denied``.

The token and revocation endpoints answer RFC 6749 §5.2 error JSON, never problem+json.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from flint_chassis.http import raw_query
from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import Problem, problem_response, problem_type
from flint_contracts.event_types import SCOPES
from flint_contracts.text import text_problem
from flint_installs import handlers
from flint_installs.context import ServiceContext
from flint_installs.domain import App, AuthorizationRequest, Merchant, OAuthError
from flint_installs.sessions import LOGIN_COOKIE, SESSION_COOKIE, Session

log = logging.getLogger("flint.installs.oauth")
router = APIRouter(prefix="/oauth", tags=["oauth"])

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # No form-action: the consent form's answer redirects to the app's own origin.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}
_TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
INVALID_AUTHORIZATION_REQUEST = problem_type(
    "invalid_authorization_request", 400, "Invalid authorization request",
    "An install link Flint cannot use (unknown client, unregistered redirect URI, a repeated parameter); "
    "a browser is shown the same as a page.")
FORM_EXPIRED = problem_type(
    "form_expired", 403, "Form expired", "A login or consent form not sent by Flint's own page, or too old.")


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.installs


# ---------------------------------------------------------------- pages
def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = _ctx(request)
    response = ctx.templates.TemplateResponse(request, template, values, status_code=status)
    response.headers.update(_PAGE_HEADERS)
    return response


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """An error shown on this site (never redirected): HTML for a browser, problem+json otherwise."""
    if "text/html" not in request.headers.get("accept", "text/html"):
        kind = FORM_EXPIRED if status == 403 else INVALID_AUTHORIZATION_REQUEST
        return problem_response(Problem(kind, detail, headers=_TOKEN_HEADERS), request.url.path,
                                current_correlation_id())
    return _page(request, "error.html", status, title=title, detail=detail)


def _redirect_to_client(request: AuthorizationRequest, **params: str) -> RedirectResponse:
    """303 to the (already validated) redirect URI, keeping its own query, adding ``params``."""
    assert request.redirect_uri is not None
    parts = urlsplit(request.redirect_uri)
    values = dict(params)
    if request.state is not None:
        values["state"] = request.state
    query = "&".join(q for q in (parts.query, urlencode(values)) if q)
    response = RedirectResponse(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), status_code=303)
    response.headers.update(_TOKEN_HEADERS)
    return response


def _redirect_error(ctx: ServiceContext, request: AuthorizationRequest, error: OAuthError) -> RedirectResponse:
    return _redirect_to_client(request, error=error.error, error_description=error.description, iss=ctx.settings.issuer)


def _single_valued(params: Any) -> str | None:
    """RFC 6749 §3.1: parameters must not be repeated. Returns the name of a repeated one."""
    seen: set[str] = set()
    for name, _ in params.multi_items():
        if name in AuthorizationRequest.FIELDS and name in seen:
            return name
        seen.add(name)
    return None


def _unreadable(params: Any) -> str | None:
    """Why a form or query value cannot be read as text (a NUL, a control character), or None."""
    for name, value in params.multi_items():
        if isinstance(value, str) and (problem := text_problem(name) or text_problem(value)):
            return f"The parameter {name!r} {problem}."
    return None


async def _trusted_client(request: Request, params: Any) -> tuple[AuthorizationRequest, App] | Response:
    """The request and its app once client_id and redirect_uri are known good, else an error page."""
    if unreadable := _unreadable(params):
        return _error_page(request, 400, "Invalid request", unreadable)
    if repeated := _single_valued(params):
        return _error_page(request, 400, "Invalid request", f"The parameter {repeated} appears more than once.")
    auth_request = AuthorizationRequest.from_params(params)
    app = await handlers.find_app(_ctx(request).pool, auth_request.client_id)
    if problem := auth_request.client_problem(app):
        return _error_page(request, 400, "This link cannot be used to install an app", problem)
    assert app is not None
    return auth_request, app


def _session(request: Request) -> Session | None:
    ctx = _ctx(request)
    assert ctx.sessions is not None
    return ctx.sessions.read(request.cookies.get(SESSION_COOKIE))


def _scope_lines(scopes: tuple[str, ...]) -> list[dict[str, str]]:
    """Each scope in words, as the contracts' registry describes it to merchants."""
    return [{"scope": s, "description": SCOPES[s]} for s in scopes]


def _login_page(request: Request, auth_request: AuthorizationRequest, app: App, *, status: int = 200,
                error: str | None = None) -> HTMLResponse:
    ctx = _ctx(request)
    assert ctx.sessions is not None
    nonce = ctx.sessions.login_nonce(request.cookies.get(LOGIN_COOKIE))
    response = _page(request, "login.html", status, app=app, error=error, params=auth_request.params(),
                     csrf_token=ctx.sessions.login_token(nonce, auth_request))
    ctx.sessions.set_login_cookie(response, nonce)
    return response


# ---------------------------------------------------------------- authorize
@router.get("/authorize", response_class=HTMLResponse, summary="Start an install: login, then consent (HTML)")
@raw_query
async def authorize(request: Request) -> Response:
    ctx = _ctx(request)
    trusted = await _trusted_client(request, request.query_params)
    if isinstance(trusted, Response):
        return trusted
    auth_request, app = trusted
    try:
        scopes = auth_request.granted_scopes(app)
    except OAuthError as error:
        return _redirect_error(ctx, auth_request, error)
    session = _session(request)
    merchant = await handlers.get_merchant(ctx.pool, session.merchant_id) if session else None
    # prompt=login (as in OpenID Connect) lets a merchant log in as another merchant.
    if session is None or merchant is None or request.query_params.get("prompt") == "login":
        return _login_page(request, auth_request, app)
    assert ctx.sessions is not None
    return _page(request, "consent.html", app=app, merchant=merchant, scopes=_scope_lines(scopes),
                 params=auth_request.params(), redirect_host=urlsplit(auth_request.redirect_uri or "").netloc,
                 switch_url=f"/oauth/authorize?{urlencode({**auth_request.params(), 'prompt': 'login'})}",
                 csrf_token=ctx.sessions.consent_token(session, auth_request))


@router.post("/login", response_class=HTMLResponse, summary="Merchant login with the secret key (HTML form)")
async def log_in(request: Request) -> Response:
    ctx = _ctx(request)
    form = await request.form()
    trusted = await _trusted_client(request, form)
    if isinstance(trusted, Response):
        return trusted
    auth_request, app = trusted
    assert ctx.sessions is not None
    if not ctx.sessions.login_token_valid(request.cookies.get(LOGIN_COOKIE), auth_request, _field(form, "csrf_token")):
        return _error_page(request, 403, "This form has expired",
                           "The login form was not sent by this page or is too old. Nothing was changed; start again from the app.")
    secret_key = _field(form, "secret_key") or ""
    merchant = await handlers.authenticate_merchant(ctx.pool, secret_key.strip()) if secret_key else None
    if merchant is None:
        return _login_page(request, auth_request, app, status=401, error="That secret key is not valid.")
    response = RedirectResponse(f"/oauth/authorize?{urlencode(auth_request.params())}", status_code=303)
    response.headers.update(_TOKEN_HEADERS)
    ctx.sessions.start(response, merchant.id)
    log.info("merchant %s logged in to authorize %s", merchant.id, app.id)
    return response


@router.post("/authorize", response_class=HTMLResponse, summary="The merchant's answer on the consent page")
async def decide_authorization(request: Request) -> Response:
    ctx = _ctx(request)
    form = await request.form()
    trusted = await _trusted_client(request, form)
    if isinstance(trusted, Response):
        return trusted
    auth_request, app = trusted
    assert ctx.sessions is not None
    session = _session(request)
    if session is None:
        return _login_page(request, auth_request, app, status=401, error="Your session has expired. Log in again.")
    if not ctx.sessions.consent_token_valid(session, auth_request, _field(form, "csrf_token")):
        return _error_page(request, 403, "This form has expired",
                           "The consent form was not sent by this page, or the request was changed. Nothing was changed.")
    try:
        scopes = auth_request.granted_scopes(app)
    except OAuthError as error:
        return _redirect_error(ctx, auth_request, error)
    decision = _field(form, "decision")
    if decision == "deny":
        log.info("merchant %s denied %s", session.merchant_id, app.id)
        return _redirect_error(ctx, auth_request, OAuthError("access_denied", "the merchant denied the request"))
    if decision != "approve":
        return _error_page(request, 400, "Invalid request", "Choose approve or deny.")
    code = await handlers.approve(ctx.pool, merchant_id=session.merchant_id, app=app, request=auth_request,
                                  scopes=scopes, code_ttl=timedelta(seconds=ctx.settings.authorization_code_ttl))
    log.info("merchant %s approved %s with scopes %s", session.merchant_id, app.id, " ".join(scopes))
    await ctx.installs_changed(app.id)  # its first install lets the app read its topic
    return _redirect_to_client(auth_request, code=code, iss=ctx.settings.issuer)


def _field(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- token and revoke
def _oauth_error(error: OAuthError) -> JSONResponse:
    headers = dict(_TOKEN_HEADERS)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="flint", charset="UTF-8"'
    return JSONResponse({"error": error.error, "error_description": error.description}, status_code=error.status,
                        headers=headers)


async def _token_form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    form = await request.form()
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in values:
            raise OAuthError("invalid_request", f"parameter {name} appears more than once")
        if isinstance(value, str):
            if problem := text_problem(name) or text_problem(value):
                raise OAuthError("invalid_request", f"parameter {name!r} {problem}")
            values[name] = value
    return values


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 §2.3.1) or client_secret_post; exactly one of them."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            client_id, client_secret = (unquote_plus(part) for part in decoded.split(":", 1))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from None
        if text_problem(client_id) or text_problem(client_secret):
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the authenticated client")
        return client_id, client_secret
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not client_secret:
        raise OAuthError("invalid_client", "client authentication required", status=401)
    return client_id, client_secret


async def _authenticate(ctx: ServiceContext, client_id: str, client_secret: str) -> App | Merchant:
    """The app, or the merchant (client_id = merchant id, secret = its secret key)."""
    if client_id.startswith("mer_"):
        client = await handlers.authenticate_merchant(ctx.pool, client_secret, merchant_id=client_id)
    else:
        client = await handlers.authenticate_app(ctx.pool, client_id, client_secret)
    if client is None:
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    return client


@router.post("/token", summary="Exchange a code, rotate a refresh token, or get a merchant token")
@raw_query
async def token(request: Request) -> Response:
    ctx = _ctx(request)
    assert ctx.issuer is not None
    try:
        form = await _token_form(request)
        client = await _authenticate(ctx, *_client_credentials(request, form))
        grant_type = form.get("grant_type")
        refresh_ttl = timedelta(seconds=ctx.settings.refresh_token_ttl)
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported")
        # Apps install through codes; only a merchant's own backend uses client_credentials.
        allowed = ("client_credentials",) if isinstance(client, Merchant) else ("authorization_code", "refresh_token")
        if grant_type not in allowed:
            raise OAuthError("unauthorized_client", f"this client may not use grant_type {grant_type}")
        if grant_type == "authorization_code":
            grant = await handlers.exchange_code(
                ctx.pool, ctx.issuer, app=client, code=form.get("code"), redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"), refresh_ttl=refresh_ttl)
        elif grant_type == "refresh_token":
            grant = await handlers.refresh(ctx.pool, ctx.issuer, app=client, refresh_token=form.get("refresh_token"),
                                           scope=form.get("scope"), refresh_ttl=refresh_ttl)
        else:
            grant = await handlers.merchant_token(ctx.issuer, client, form.get("scope"), list(SCOPES))
    except OAuthError as error:
        log.info("token request refused: %s", error.error)
        return _oauth_error(error)
    return JSONResponse(grant.response(), headers=_TOKEN_HEADERS)


@router.post("/revoke", summary="Revoke a refresh token (its whole grant) or an access token (RFC 7009)")
@raw_query
async def revoke(request: Request) -> Response:
    ctx = _ctx(request)
    assert ctx.verifier is not None
    try:
        form = await _token_form(request)
        client = await _authenticate(ctx, *_client_credentials(request, form))
        await handlers.revoke(ctx.pool, ctx.verifier, client_id=client.id, token=form.get("token"),
                              token_type_hint=form.get("token_type_hint"))
    except OAuthError as error:
        return _oauth_error(error)
    return Response(status_code=200, headers=_TOKEN_HEADERS)
