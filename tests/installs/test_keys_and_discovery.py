"""Signing keys (JWKS, rotation), the discovery document, and token revocation (RFC 7009)."""

from __future__ import annotations

import jwt
import pytest

from flint_installs.app import create_app
from tests.installs.support import Flint

pytestmark = pytest.mark.integration


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


async def published_kids(flint: Flint) -> list[str]:
    return [k["kid"] for k in (await flint.http.get("/.well-known/jwks.json")).json()["keys"]]


async def test_the_jwks_publishes_ed25519_public_keys_only(flint: Flint):
    response = await flint.http.get("/.well-known/jwks.json")

    [key] = response.json()["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA" and key["use"] == "sig"
    assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}  # no "d": nothing private
    private = await flint.pool.fetchval("SELECT private_key FROM signing_keys")
    assert len(bytes(private)) == 12 + 32 + 16  # nonce, the sealed 32-byte key, the GCM tag


async def test_after_a_rotation_old_tokens_still_verify_until_they_expire(flint: Flint):
    # given a token signed with the first key
    merchant = await flint.create_merchant()
    old_token = await flint.merchant_token(merchant)
    old_kid = kid_of(old_token)
    # when the key rotates
    await flint.context.keys.rotate()
    new_token = await flint.merchant_token(merchant)
    # then new tokens use the new key, both keys are published, and the old token still works
    assert kid_of(new_token) != old_kid
    assert await published_kids(flint) == [kid_of(new_token), old_kid]
    listed = await flint.http.get("/v1/installs", headers=flint.bearer(old_token))
    assert listed.status_code == 200
    # and once the old key has been retired for longer than a token lives, it is gone
    await flint.pool.execute("UPDATE signing_keys SET retired_at = now() - interval '1 hour' WHERE kid = $1", old_kid)
    flint.context.keys._loaded_at = float("-inf")  # noqa: SLF001 - skip the 30 s cache in this test
    assert await published_kids(flint) == [kid_of(new_token)]
    assert (await flint.http.get("/v1/installs", headers=flint.bearer(old_token))).status_code == 401


async def test_a_key_older_than_the_rotation_period_is_replaced_when_next_used(flint: Flint):
    merchant = await flint.create_merchant()
    first_kid = kid_of(await flint.merchant_token(merchant))
    await flint.pool.execute("UPDATE signing_keys SET created_at = now() - interval '31 days'")
    flint.context.keys._loaded_at = float("-inf")  # noqa: SLF001

    second_kid = kid_of(await flint.merchant_token(merchant))

    assert second_kid != first_kid
    assert await published_kids(flint) == [second_kid, first_kid]


async def test_a_second_replica_signs_with_the_same_keys(flint: Flint, installs_settings):
    merchant = await flint.create_merchant()
    replica = create_app(installs_settings)

    async with replica.router.lifespan_context(replica):
        keys = replica.state.installs.keys
        assert (await keys.signing_key()).kid == kid_of(await flint.merchant_token(merchant))
        assert [k["kid"] for k in await keys.published()] == await published_kids(flint)


async def test_the_discovery_document_lists_the_endpoints_and_every_services_url(flint: Flint):
    document = (await flint.http.get("/.well-known/flint-configuration")).json()

    issuer = flint.settings.issuer
    assert document["issuer"] == issuer
    assert document["token_endpoint"] == f"{issuer}/oauth/token"
    assert document["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert document["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["services"] == {"installs": issuer, "orders": "http://orders.test"}
    assert "refunds:write" in document["scopes_supported"]
    assert (await flint.http.get("/.well-known/oauth-authorization-server")).json() == document


async def test_revoking_a_refresh_token_ends_its_grant(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    tokens = await flint.install(merchant, app)
    rotated = (await flint.refresh(app, tokens["refresh_token"])).json()

    response = await flint.http.post("/oauth/revoke", data={
        "token": rotated["refresh_token"], "client_id": app["client_id"], "client_secret": app["client_secret"]})

    assert response.status_code == 200
    assert (await flint.refresh(app, rotated["refresh_token"])).json()["error"] == "invalid_grant"


async def test_revoking_an_access_token_makes_this_service_refuse_it(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    tokens = await flint.install(merchant, app)

    response = await flint.http.post("/oauth/revoke", data={
        "token": tokens["access_token"], "token_type_hint": "access_token",
        "client_id": app["client_id"], "client_secret": app["client_secret"]})

    assert response.status_code == 200
    assert (await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))).status_code == 401


async def test_revoking_another_clients_token_or_garbage_changes_nothing(flint: Flint):
    merchant = await flint.create_merchant()
    app, other = await flint.register_app(), await flint.register_app("Other")
    tokens = await flint.install(merchant, app)
    before = await flint.snapshot()

    for token in (tokens["refresh_token"], tokens["access_token"], "not-a-token"):
        response = await flint.http.post("/oauth/revoke", data={
            "token": token, "client_id": other["client_id"], "client_secret": other["client_secret"]})
        assert response.status_code == 200  # RFC 7009 §2.2: nothing to tell the caller

    assert await flint.snapshot() == before
    unauthenticated = await flint.http.post("/oauth/revoke", data={"token": tokens["refresh_token"]})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
