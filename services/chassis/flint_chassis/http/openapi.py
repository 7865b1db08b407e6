"""OpenAPI documents that code generators accept, the same way for every service.

FastAPI writes the document from the routes; this adds what generators and clients need:
- ``operationId``: the route function's name in camelCase (``list_orders`` -> ``listOrders``);
- one ``Problem`` schema (``flint_chassis.problems.ProblemDocument``) behind every error
  response, instead of FastAPI's ``HTTPValidationError``; each operation documents the
  errors it can answer: 400/413/415 when it takes a body, 422 when it takes input,
  401/403/429 when it needs a token, 404 when its path names something, 500 and 503 always;
- ``servers``, and ``security: []`` on operations anyone may call.

``python -m flint_chassis.http.write_openapi`` writes the documents into docs/openapi/.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from flint_chassis.problems import ProblemDocument

_ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "Malformed JSON, or a body that cannot be read (`malformed_json`, `malformed_request`)."),
    "401": ("Unauthorized", "No token, or one that is not valid (`invalid_token`)."),
    "403": ("Forbidden", "The token lacks a scope, or is not the kind of caller this call is for."),
    "404": ("NotFound", "No such resource for this caller (`not_found`)."),
    "409": ("Conflict", "The resource's state refuses the change, or it changed meanwhile."),
    "413": ("PayloadTooLarge", "The body is larger than the service accepts (`payload_too_large`)."),
    "415": ("UnsupportedMediaType", "The body is not `application/json` (`unsupported_media_type`)."),
    "422": ("UnprocessableContent", "Invalid input; `errors` names each field (`validation_failed` and others)."),
    "429": ("TooManyRequests", "The token's rate limit is spent; retry after `Retry-After` seconds (`rate_limited`)."),
    "500": ("InternalError", "An unexpected error; nothing about it is shown (`internal_error`)."),
    "503": ("ServiceUnavailable", "The database does not answer; retry after `Retry-After` seconds "
                                  "(`service_unavailable`)."),
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {"application/problem+json": {"schema": _PROBLEM_REF}}


def operation_id(route: APIRoute) -> str:
    """``list_orders`` -> ``listOrders``."""
    head, *rest = route.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def build(app: FastAPI, servers: list[dict[str, str]]) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, description=app.description,
        routes=app.routes, servers=servers, tags=app.openapi_tags,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["responses"] = {
        name: {"description": text, "content": _PROBLEM_CONTENT} for name, text in _ERRORS.values()
    }
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _document_errors(method, operation)
    return document


def _document_errors(method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    secured = bool(operation.get("security"))
    if not secured:
        operation["security"] = []
    parameters = operation.get("parameters", [])
    codes = {"500", "503"}
    if "requestBody" in operation:
        codes |= {"400", "413", "415", "422"}
    if parameters:
        codes.add("422")
    if secured:
        codes |= {"401", "403", "429"}
    if any(p.get("in") == "path" for p in parameters):
        codes.add("404")
    codes |= {code for code in responses if code in _ERRORS}
    for code in sorted(codes):
        name, text = _ERRORS[code]
        declared = responses.get(code)
        if declared is None or code == "422" and "HTTPValidationError" in json.dumps(declared):
            responses[code] = {"$ref": f"#/components/responses/{name}"}
        else:
            declared["content"] = _PROBLEM_CONTENT
    operation["responses"] = dict(sorted(responses.items()))


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
