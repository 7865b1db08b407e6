"""Request bodies, checked before any route reads them.

- A body larger than ``max_body_bytes`` is a 413 ``payload_too_large``: refused on its
  ``Content-Length`` before a byte is read, or as soon as a chunked body passes the limit.
- A JSON body (``application/json`` or ``+json``) that does not parse is a 400
  ``malformed_json``; one that parses but holds text or numbers Flint cannot store and read
  back (``flint_contracts.text.json_problem``: NUL, lone surrogates, control characters,
  nesting deeper than 32, integers past 2**53-1, NaN) is a 422 naming the field. This is
  where every service checks the strings of every JSON body, once.

The body is read here, whole (a route reads it whole anyway), and handed on unchanged. The
parsed document is kept in ``scope["state"]["flint.json"]`` for the idempotency
fingerprint, so it is not parsed a third time.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import MALFORMED_JSON, PAYLOAD_TOO_LARGE, Problem, invalid, problem_response
from flint_contracts.text import json_problem

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARSED_JSON = "flint.json"


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(self._too_large(), scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(self._too_large(), scope, receive, send)
            return
        if body and is_json(_header(scope, b"content-type") or ""):
            problem = _check_json(body, scope)
            if problem is not None:
                await self._refuse(problem, scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (the rest is left unread)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> Problem:
        return Problem(PAYLOAD_TOO_LARGE, f"the body must be at most {self.max_bytes} bytes")

    @staticmethod
    async def _refuse(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        await problem_response(problem, scope["path"], current_correlation_id())(scope, receive, send)


def _check_json(body: bytes, scope: Scope) -> Problem | None:
    # The standard parser, as FastAPI's: the check must see the numbers the route will see
    # (orjson reads an integer past 64 bits as a float, which would pass the check here and
    # then fail to encode later).
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        return Problem(MALFORMED_JSON, f"the body is not valid JSON: {_reason(error)}")
    found = json_problem(document)
    if found is not None:
        path, reason = found
        return invalid(path or "body", _code(reason), reason)
    scope.setdefault("state", {})[PARSED_JSON] = document
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    return "it nests too deeply or holds a number too long to read"


def _code(reason: str) -> str:
    """A code for ``json_problem``'s reason (its wording is the contracts')."""
    if "must not contain" in reason:
        return "invalid_text"
    if "nest" in reason:
        return "too_deep"
    if "integers" in reason:
        return "out_of_range"
    if "finite" in reason:
        return "not_finite"
    return "invalid"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when it comes

    return replay


NO_BODY = object()


def parsed_json(scope: Scope) -> Any:
    """The JSON body BodyGuard parsed, or ``NO_BODY`` (no body, or not JSON)."""
    return scope.get("state", {}).get(PARSED_JSON, NO_BODY)
