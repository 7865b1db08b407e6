"""What every fuzzed answer must satisfy (issue 9): no server error, and every error is a
problem document that validates against the one Problem schema."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

import jsonschema
import schemathesis
from hypothesis import HealthCheck, settings

from flint_chassis.problems import ProblemDocument
from tests.support.stack import ROOT

PROBLEM = jsonschema.Draft202012Validator(ProblemDocument.model_json_schema())
OAUTH_ERROR = jsonschema.Draft202012Validator({
    "type": "object", "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
})

# Bounded in examples (per operation), not in time: the same seed-independent budget on
# every machine. Both valid and invalid inputs are generated.
EXAMPLES_PER_OPERATION = 60
FUZZ_SETTINGS = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=False,
                         suppress_health_check=list(HealthCheck), database=None)

# Generated cases per service, for the run's summary.
CASES: Counter[str] = Counter()

# The rate limits are lifted for the fuzz: it drives each operation with one token.
UNLIMITED = {"rate_limit_read_per_second": 1e6, "rate_limit_read_burst": 10**6,
             "rate_limit_write_per_second": 1e6, "rate_limit_write_burst": 10**6}


def fuzz_secret() -> str:
    return secrets.token_urlsafe(40)


def load_schema(service: str) -> Any:
    """The service's committed OpenAPI document (docs/openapi/), generating valid and invalid cases."""
    schema = schemathesis.openapi.from_path(str(ROOT / "docs" / "openapi" / f"{service}.json"))
    schema.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES_PER_OPERATION)
    return schema


def check_answer(service: str, case: Any, response: Any) -> None:
    """The properties every answer has, whatever was sent."""
    CASES[service] += 1
    request = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{request} answered {response.status_code}: {response.text[:2000]}"
    if response.status_code < 400:
        return
    media = _header(response, "content-type")
    if case.path in ("/oauth/token", "/oauth/revoke") and media == "application/json":
        OAUTH_ERROR.validate(response.json())  # RFC 6749 §5.2 errors, by design
        return
    assert media == "application/problem+json", f"{request} answered {response.status_code} as {media!r}"
    document = response.json()
    PROBLEM.validate(document)
    assert document["status"] == response.status_code and document["type"].endswith("/" + document["code"])


def _header(response: Any, name: str) -> str:
    value = response.headers.get(name, "")
    return value[0] if isinstance(value, list) else value
