"""The OpenAPI documents: committed and current, shaped for code generators, and the docs
page works without reaching the internet."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from flint_chassis.http.write_openapi import document_of

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"orders": "flint_orders.app:openapi_app", "installs": "flint_installs.app:openapi_app",
            "refunds": "flint_refunds.app:openapi_app", "invoicing": "flint_invoicing.app:openapi_app"}
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module", params=sorted(SERVICES))
def service(request) -> tuple[str, dict[str, Any]]:
    return request.param, json.loads(document_of(SERVICES[request.param]))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in METHODS]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_committed_document_is_the_generated_one(name):
    committed = (ROOT / "docs" / "openapi" / f"{name}.json").read_text()
    assert committed == document_of(SERVICES[name]), f"docs/openapi/{name}.json is stale: run `make openapi`"


def test_every_operation_has_a_named_id_a_summary_tags_and_security(service):
    name, document = service
    ids = [op.get("operationId", "") for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids), ids
    for path, method, op in operations(document):
        assert op.get("summary") and op.get("tags") and "security" in op, (path, method)
    assert document["servers"][0]["url"].startswith("http://127.0.0.1:")


def test_every_error_response_is_the_one_problem_schema(service):
    name, document = service
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])
    problem_refs = {f"#/components/responses/{n}" for n in document["components"]["responses"]}
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            if "$ref" in response:
                assert response["$ref"] in problem_refs
            else:
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (path, method, status)
        codes = set(op["responses"])
        assert {"500", "503"} <= codes
        if op.get("security"):
            assert {"401", "403", "429"} <= codes, (path, method)
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= codes, (path, method)


def test_every_string_a_client_sends_has_a_bound(service):
    name, document = service
    schemas = document["components"]["schemas"]
    unbounded: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[1]
            if target not in seen:
                walk(schemas[target], target, seen | {target})
            return
        bounded = {"maxLength", "enum", "const"} & set(schema) or schema.get("format") == "date-time"
        if schema.get("type") == "string" and not (bounded or _bounded_pattern(schema.get("pattern", ""))):
            unbounded.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(sub, where, seen)
        for prop, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{prop}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)

    for path, method, op in operations(document):
        for parameter in op.get("parameters", []):
            walk(parameter["schema"], f"{method} {path} {parameter['name']}", frozenset())
        for media in op.get("requestBody", {}).get("content", {}).values():
            walk(media["schema"], f"{method} {path} body", frozenset())
    assert unbounded == []


def _bounded_pattern(pattern: str) -> bool:
    """An anchored pattern without open-ended repetition (``^[A-Z]{3}$``) bounds the length."""
    return pattern.startswith("^") and pattern.endswith("$") and not re.search(r"[*+]|\{\d+,\}", pattern)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_the_docs_page_loads_its_assets_from_the_service_itself(name):
    module, _, function = SERVICES[name].partition(":")
    app = getattr(__import__(module, fromlist=[function]), function)()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://docs.test") as client:
        page = await client.get("/docs")
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        loaded = [await client.get(url) for url in assets]
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert assets and all(url.startswith("/docs/assets/") for url in assets), assets
    assert all(r.status_code == 200 and len(r.content) > 1000 for r in loaded)
    assert "cdn" not in page.text.lower()
