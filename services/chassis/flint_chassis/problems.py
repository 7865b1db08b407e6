"""Errors as ``application/problem+json`` (RFC 9457), the same in every service.

Every error a Flint API answers is one registered :class:`ProblemType`: a stable ``code``
(snake_case, machine-readable), its HTTP status and title, and a ``type`` URL
``https://flint.dev/problems/<code>`` that docs/problems.md explains. A route raises
``Problem(NOT_FOUND, "no order ord_…")``; the chassis renders the document with the
request's ``instance`` (its path) and ``correlation_id``. Validation errors carry
``errors: [{"field", "code", "message"}]`` in Flint's own words.

Services register their own types next to their routes (``problem_type(...)`` at import);
a test checks that docs/problems.md lists every registered code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://flint.dev/problems/"


@dataclass(frozen=True)
class ProblemType:
    """One kind of error: what clients switch on (``code``), with its status and title."""

    code: str
    status: int
    title: str
    description: str

    @property
    def type(self) -> str:
        return TYPE_BASE + self.code


REGISTRY: dict[str, ProblemType] = {}


def problem_type(code: str, status: int, title: str, description: str) -> ProblemType:
    """Registers a problem type; the same code twice must mean the same thing."""
    kind = ProblemType(code, status, title, description)
    known = REGISTRY.setdefault(code, kind)
    if known != kind:
        raise ValueError(f"problem code {code!r} is registered twice with different meanings")
    return kind


# --- the chassis' own types (every service answers these) ----------------------------------------

MALFORMED_JSON = problem_type("malformed_json", 400, "Malformed JSON", "The body is not valid JSON.")
MALFORMED_REQUEST = problem_type(
    "malformed_request", 400, "Malformed request", "The request could not be read (a broken form or body).")
INVALID_TOKEN = problem_type(
    "invalid_token", 401, "Unauthorized",
    "No bearer token, or one that is malformed, expired, revoked, for another audience, or of an uninstalled app.")
INSUFFICIENT_SCOPE = problem_type(
    "insufficient_scope", 403, "Insufficient scope", "The token lacks a scope this call needs (`WWW-Authenticate` names it).")
FORBIDDEN = problem_type("forbidden", 403, "Forbidden", "This kind of caller may not make this call.")
NOT_FOUND = problem_type(
    "not_found", 404, "Not found", "No such resource for this caller (another merchant's resource is not found either).")
METHOD_NOT_ALLOWED = problem_type(
    "method_not_allowed", 405, "Method not allowed", "The path exists, the method does not (`Allow` lists those that do).")
CONFLICT = problem_type(
    "conflict", 409, "Conflict", "The resource changed while the request ran; retry it.")
PAYLOAD_TOO_LARGE = problem_type(
    "payload_too_large", 413, "Payload too large", "The body is larger than the service accepts (1 MiB by default).")
UNSUPPORTED_MEDIA_TYPE = problem_type(
    "unsupported_media_type", 415, "Unsupported media type", "The body must be sent as `application/json`.")
VALIDATION_FAILED = problem_type(
    "validation_failed", 422, "Invalid request", "One or more fields are invalid; `errors` names each with a reason.")
INVALID_CURSOR = problem_type(
    "invalid_cursor", 422, "Invalid cursor",
    "`starting_after` is not a `next_cursor` this list handed out (edited, or from another list or service).")
CURRENCY_MISMATCH = problem_type(  # orders and refunds both answer it: one meaning, registered once
    "currency_mismatch", 422, "Currency mismatch", "An amount is in another currency than the order's.")
IDEMPOTENCY_KEY_REUSED = problem_type(
    "idempotency_key_reused", 422, "Idempotency-Key reused",
    "The `Idempotency-Key` was used before with another request (another body, path or method).")
RATE_LIMITED = problem_type(
    "rate_limited", 429, "Too many requests", "The token's request budget is spent; retry after `Retry-After` seconds.")
INTERNAL_ERROR = problem_type(
    "internal_error", 500, "Internal error",
    "An unexpected error. Nothing about it is shown; quote the `correlation_id` when reporting it.")
SERVICE_UNAVAILABLE = problem_type(
    "service_unavailable", 503, "Service unavailable",
    "A dependency (the database) does not answer, or the service is starting; retry after `Retry-After` seconds.")


class FieldError(BaseModel):
    """One invalid input."""

    field: str = Field(description="Where: a dotted path in the body (`line_items.0.quantity`), or a parameter or "
                                   "header name.", examples=["line_items.0.quantity"], max_length=300)
    code: str = Field(description="What, machine-readable.", examples=["too_small"], max_length=64)
    message: str = Field(description="What, in words.", examples=["must be at least 1"], max_length=1000)


class ProblemDocument(BaseModel):
    """The body of every error (RFC 9457 problem details, `application/problem+json`)."""

    model_config = ConfigDict(title="Problem", json_schema_extra={"examples": [{
        "type": "https://flint.dev/problems/validation_failed", "title": "Invalid request", "status": 422,
        "detail": "line_items.0.quantity: must be at least 1", "instance": "/v1/orders",
        "code": "validation_failed", "correlation_id": "req_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
        "errors": [{"field": "line_items.0.quantity", "code": "too_small", "message": "must be at least 1"}],
    }]})

    type: str = Field(description=f"`{TYPE_BASE}<code>`: explained in docs/problems.md.", max_length=200)
    title: str = Field(description="The problem type's short title.", max_length=200)
    status: int = Field(ge=100, le=599, description="The HTTP status.")
    detail: str | None = Field(default=None, description="This occurrence, in words.", max_length=5000)
    instance: str | None = Field(default=None, description="The request's path.", max_length=5000)
    code: str = Field(description="Machine-readable; the same as the end of `type`.", max_length=64)
    correlation_id: str | None = Field(default=None, description="The request's `X-Correlation-Id`.", max_length=128)
    errors: list[FieldError] | None = Field(default=None, description="Each invalid input (validation problems).")


class Problem(Exception):
    """Raise in a route (or anywhere below it) to answer with a problem document."""

    def __init__(
        self,
        kind: ProblemType,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or kind.title)
        self.kind, self.headers = kind, headers
        # Details may quote what was sent (an unknown parameter, a redirect URI): never all of it.
        self.detail = _shortened(detail, 5000) if detail else detail
        self.errors = [{"field": _shortened(e["field"], 300), "code": e["code"], "message": _shortened(e["message"], 1000)}
                       for e in errors] if errors else errors

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def code(self) -> str:
        return self.kind.code

    def body(self, instance: str | None = None, correlation_id: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"type": self.kind.type, "title": self.kind.title, "status": self.kind.status}
        if self.detail:
            document["detail"] = self.detail
        if instance:
            document["instance"] = instance
        document["code"] = self.kind.code
        if correlation_id:
            document["correlation_id"] = correlation_id
        if self.errors:
            document["errors"] = self.errors
        return document


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invalid(field: str, code: str, message: str, kind: ProblemType = VALIDATION_FAILED) -> Problem:
    """A 422 about one input: ``invalid("starting_after", "invalid_cursor", "is not a cursor …")``."""
    return Problem(kind, f"{field}: {message}", errors=[{"field": field, "code": code, "message": message}])


def problem_response(problem: Problem, instance: str | None = None, correlation_id: str | None = None) -> Response:
    return Response(
        orjson.dumps(problem.body(instance, correlation_id)), status_code=problem.status, media_type=PROBLEM_JSON,
        headers=problem.headers,
    )
