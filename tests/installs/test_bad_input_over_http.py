"""Issue 9's reproductions against installs, over a real HTTP server and one keep-alive
connection: the documented answer, nothing stored, and the connection still serves."""

from __future__ import annotations

import pytest

from tests.installs.support import Flint
from tests.support.http_server import OneConnection, serving

pytestmark = pytest.mark.integration

CASES = [
    ("nul-in-merchant-name", "POST", "/v1/merchants", {"json": {"name": "a\u0000b"}, "admin": True},
     422, "validation_failed", "name"),
    ("malformed-json", "POST", "/v1/apps", {"content": b"{", "headers": {"content-type": "application/json"},
                                            "admin": True}, 400, "malformed_json", None),
    ("wrong-content-type", "POST", "/v1/merchants", {"content": b'{"name": "Acme"}', "admin": True,
                                                     "headers": {"content-type": "text/plain"}},
     415, "unsupported_media_type", None),
    ("garbage-cursor", "GET", "/v1/installs?starting_after=garbage", {"merchant": True},
     422, "validation_failed", "starting_after"),
    ("unknown-parameter", "GET", "/v1/installs?sort=name", {"merchant": True}, 422, "validation_failed", "sort"),
    ("nul-in-authorize-query", "GET", "/oauth/authorize?client_id=a%00b&response_type=code", {},
     422, "validation_failed", "client_id"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code", "field"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_bad_input_is_a_problem_that_stores_nothing_and_keeps_the_connection(
    flint: Flint, method, path, kwargs, status, code, field,
):
    merchant = await flint.create_merchant()
    kwargs = dict(kwargs)
    headers = kwargs.pop("headers", {})
    if kwargs.pop("admin", False):
        headers.update(flint.admin())
    if kwargs.pop("merchant", False):
        headers.update(flint.bearer(await flint.merchant_token(merchant)))
    before = await flint.snapshot()
    async with serving(flint.app) as url, OneConnection(url) as http:
        response = await http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == status, response.text
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json" and problem["code"] == code
        if field is not None:
            assert field in [e["field"] for e in problem["errors"]], problem
        assert await flint.snapshot() == before
        assert (await http.request("GET", "/.well-known/jwks.json")).status_code == 200
        assert http.still_one_connection()


async def test_a_nul_in_the_token_form_is_an_oauth_invalid_request(flint: Flint):
    merchant = await flint.create_merchant()
    before = await flint.snapshot()
    async with serving(flint.app) as url, OneConnection(url) as http:
        response = await http.request("POST", "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": merchant["id"] + "\u0000",
            "client_secret": merchant["secret_key"]})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        basic = await http.request("POST", "/oauth/token", data={"grant_type": "client_credentials"},
                                   auth=(merchant["id"] + "\u0000", merchant["secret_key"]))
        assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
        assert await flint.snapshot() == before
        assert (await http.request("GET", "/.well-known/jwks.json")).status_code == 200
        assert http.still_one_connection()
