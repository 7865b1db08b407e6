"""How every route's errors become problem documents (see ``flint_chassis.problems``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from flint_chassis.http.body import is_json
from flint_chassis.http.wording import field_errors, summary
from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import (
    CONFLICT,
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_TOKEN,
    MALFORMED_JSON,
    MALFORMED_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    Problem,
    ProblemType,
    problem_response,
)

_BY_STATUS: dict[int, ProblemType] = {
    400: MALFORMED_REQUEST, 401: INVALID_TOKEN, 403: FORBIDDEN, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED,
    409: CONFLICT, 413: PAYLOAD_TOO_LARGE, 415: UNSUPPORTED_MEDIA_TYPE, 422: VALIDATION_FAILED,
    429: RATE_LIMITED, 503: SERVICE_UNAVAILABLE,
}


def respond(request: Request, problem: Problem) -> Response:
    return problem_response(problem, request.url.path, current_correlation_id())


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length not in ("", "0")) or "chunked" in request.headers.get(
        "transfer-encoding", "").lower()


def validation_problem(request: Request, error: RequestValidationError) -> Problem:
    """422 in our words; 400 for JSON that does not parse; 415 for a body that is not JSON
    sent to a route that reads JSON (FastAPI then sees raw bytes where it wants an object)."""
    raw = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return Problem(MALFORMED_JSON, "the body is not valid JSON")
    about_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in raw)
    if about_body and _has_body(request) and not is_json(request.headers.get("content-type", "")):
        return Problem(UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")
    errors = field_errors(raw)
    return Problem(VALIDATION_FAILED, summary(errors), errors=errors)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers, and OPTIONS: each method is matched
    against the app's routes (included routers too) as a request with it would be."""
    methods = {"OPTIONS"}
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.add(method)
    return sorted(methods)


def http_problem(request: Request, error: HTTPException) -> Response:
    if error.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return respond(request, Problem(METHOD_NOT_ALLOWED, f"{request.method} is not allowed here; use {allow}",
                                        headers={"Allow": allow}))
    kind = _BY_STATUS.get(error.status_code, MALFORMED_REQUEST if error.status_code < 500 else INTERNAL_ERROR)
    detail = str(error.detail) if error.detail and error.status_code < 500 else None
    if error.status_code == 404:
        detail = f"no route {request.url.path}"
    elif error.status_code == 400:
        detail = "the request body could not be read"
    return respond(request, Problem(kind, detail, headers=getattr(error, "headers", None)))


def install_problem_handlers(app: FastAPI) -> None:
    """Problems, validation errors and Starlette's HTTP errors as problem+json. (Errors no
    route handles are the ``ErrorBoundary``'s.)"""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> Response:
        return respond(request, problem)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> Response:
        return respond(request, validation_problem(request, error))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> Response:
        return http_problem(request, error)
