"""The fast path of ``GET /v1/orders/{id}``, the platform's hottest request.

A plugin reads orders with the same token for up to 15 minutes. For that common case this
ASGI layer answers directly, without FastAPI's routing and dependency injection: the token's
signature was verified before (the chassis ``TokenVerifier`` remembers verified claims), the
order and the caller's install state come in one SQL statement, and the stored JSON goes out
as it is. The access checks are the chassis' own: ``TokenVerifier.principal`` with the
prefetched install state, the route's scope, and the token's rate limit (its RateLimit-*
headers go out with the order; an empty bucket falls through to the route's 429).

Anything else falls through to the FastAPI route, which renders the answer exactly as for
every other route: a token seen for the first time, no token, an uninstalled app (401), a
missing scope (403), an order that is not the caller's (404), any query string.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from flint_chassis.auth import InvalidToken, TokenVerifier
from flint_chassis.http.observe import note_route, note_subject
from flint_chassis.http.ratelimit import READ
from flint_orders import repository

_ORDER_PATH = re.compile(r"^/v1/orders/(ord_[0-7][0-9A-HJKMNP-TV-Z]{25})$")
ROUTE = "/v1/orders/{order_id}"  # the route this layer answers for, in metrics and the access log
_JSON_HEADERS = [(b"content-type", b"application/json")]
READ_SCOPES = ("orders:read",)


class FastOrderReads:
    def __init__(self, app: ASGIApp, *, context: Any) -> None:
        self.app = app
        self.context = context  # api.ApiContext: verifier and read pool, once started
        self._gate: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            match = _ORDER_PATH.match(scope["path"])
            answer = await self._answer(scope, match.group(1)) if match else None
            if answer is not None:
                body, rate_headers = answer
                note_route(scope, ROUTE)
                await send({"type": "http.response.start", "status": 200,
                            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *rate_headers]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, order_id: str) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
        """The order's JSON and the rate-limit headers when every check passes; None to let
        the route answer."""
        verifier, pool = self.context.verifier, self.context.read_pool
        token = bearer_token(scope)
        if token is None or pool is None or not isinstance(verifier, TokenVerifier):
            return None
        claims = await verifier.verified_claims(token)
        if claims is None:
            return None
        install_id = claims.get("install_id")
        async with self._fair_gate(pool):
            doc, state = await repository.order_json_and_install(pool, claims["merchant_id"], order_id, install_id)
        if doc is None:
            return None
        try:
            principal = await verifier.principal(claims, install_state=state)
        except InvalidToken:
            return None
        if principal.missing(READ_SCOPES):
            return None
        allowed, rate_headers = scope["app"].state.rate_limits.take(principal.token_id, READ)
        if not allowed:
            return None
        note_subject(scope, principal.subject)
        return doc.encode(), rate_headers

    def _fair_gate(self, pool: Any) -> asyncio.Semaphore:
        # asyncpg's pool lets a new request take a connection ahead of one that has been
        # waiting; a FIFO semaphore in front keeps the waits, and so the p99, short.
        if self._gate is None:
            self._gate = asyncio.Semaphore(pool.get_max_size())
        return self._gate


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None
