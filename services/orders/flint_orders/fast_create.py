"""The fast path of ``POST /v1/orders``, the platform's hottest write.

A merchant's backend creates orders one after the other with the same token. For that
common case this ASGI layer calls the route's own body (``api.create``) without FastAPI's
routing, dependency injection and second parse of the body: it measured about a third of the
service's CPU per create. What it checks first is what the route's dependencies check:

- the token was verified before (the chassis ``TokenVerifier`` remembers verified claims)
  and is a merchant's (no install behind it), with ``orders:write``;
- the body is JSON the ``BodyGuard`` already parsed and checked, and it validates as
  ``CreateOrder``; an ``Idempotency-Key``, if sent once, is 1 to 255 printable characters;
- the token's write bucket has a request left (its RateLimit-* headers go out as usual).

Anything else falls through to the FastAPI route, which renders the answer as for every
other route: a token seen for the first time, an app's token, a missing scope, a body that
does not validate, a query string, an empty bucket. Once a create has started here, its
refusals (the domain's, a conflict, a reused idempotency key) are answered by the app's own
exception handlers, so the answer is byte for byte the route's.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from flint_chassis.auth import InvalidToken, TokenVerifier
from flint_chassis.http.body import PARSED_JSON
from flint_chassis.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from flint_chassis.http.observe import note_route, note_subject
from flint_chassis.http.ratelimit import WRITE
from flint_chassis.http.ratelimit import STATE_KEY as RATE_STATE
from flint_contracts.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from flint_orders.api import create
from flint_orders.fast_read import bearer_token
from flint_orders.schemas import CreateOrder

ROUTE = "/v1/orders"
WRITE_SCOPES = ("orders:write",)
_IDEMPOTENCY = IDEMPOTENCY_HEADER.lower().encode()
_KEY = re.compile(rf"^[\x20-\x7e]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}$")
_NO_KEY = object()


class FastOrderCreates:
    def __init__(self, app: ASGIApp, *, context: Any) -> None:
        self.app = app
        self.context = context  # api.ApiContext: its verifier, once started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == ROUTE
                and not scope["query_string"]):
            checked = await self._checked(scope)
            if checked is not None:
                await self._create(scope, receive, send, *checked)
                return
        await self.app(scope, receive, send)

    async def _checked(self, scope: Scope) -> tuple[Any, CreateOrder, str | None] | None:
        """(principal, order, idempotency key) when the request passes every check the
        route's dependencies make, the token's write bucket charged; None to let the route answer."""
        verifier = self.context.verifier
        document = scope.get("state", {}).get(PARSED_JSON)
        token = bearer_token(scope)
        if document is None or token is None or not isinstance(verifier, TokenVerifier):
            return None
        key = _idempotency_key(scope)
        if key is _NO_KEY:
            return None
        claims = await verifier.verified_claims(token)
        if claims is None or claims.get("install_id"):
            return None
        try:
            principal = await verifier.principal(claims)
        except InvalidToken:
            return None
        if principal.missing(WRITE_SCOPES):
            return None
        try:
            order = CreateOrder.model_validate(document)
        except ValidationError:
            return None
        allowed, rate_headers = scope["app"].state.rate_limits.take(principal.token_id, WRITE)
        if not allowed:  # nothing taken: the route refuses with the same bucket
            return None
        scope["state"][RATE_STATE] = rate_headers  # RateLimitHeaders puts them on the answer
        note_route(scope, ROUTE)
        note_subject(scope, principal.subject)
        return principal, order, key

    async def _create(self, scope: Scope, receive: Receive, send: Send, principal: Any, order: CreateOrder,
                      key: str | None) -> None:
        request = Request(scope, receive, send)
        app = scope["app"]
        try:
            response = await create(app.state.http, request, principal, order, key)
        except Exception as error:  # noqa: BLE001 - answered as the app answers it, or raised on
            handler = _handler(app.exception_handlers, error)
            if handler is None:
                raise  # an outage or a bug: the ErrorBoundary's, as for any route
            response = await handler(request, error)
        await response(scope, receive, send)


def _idempotency_key(scope: Scope) -> Any:
    """The key, None without one, or _NO_KEY when the route must judge it (sent twice, or
    not 1 to 255 printable characters)."""
    found = [value for name, value in scope["headers"] if name == _IDEMPOTENCY]
    if not found:
        return None
    if len(found) > 1:
        return _NO_KEY
    value = found[0].decode("latin-1")
    return value if _KEY.match(value) else _NO_KEY


def _handler(handlers: dict[Any, Any], error: Exception) -> Any:
    """The app's handler for ``error`` (by its class, then its bases), as Starlette looks it up."""
    for kind in type(error).__mro__:
        if kind is Exception:  # a catch-all is the ErrorBoundary's, never this layer's
            return None
        if kind in handlers:
            return handlers[kind]
    return None
