"""Merchants and apps: created with the platform admin key, secrets shown once and stored
as hashes, every create endpoint idempotent."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from flint_chassis.http.idempotency import Idempotency
from flint_contracts import event_types as types
from flint_contracts.events import parse_data
from flint_contracts.topics import INSTALLS_EVENTS
from tests.installs.support import REDIRECT_URI, Flint, TopicWatcher

pytestmark = pytest.mark.integration


async def stored_text(flint: Flint, table: str) -> str:
    return " ".join(str(dict(r)) for r in await flint.pool.fetch(f"SELECT * FROM {table}"))


async def test_a_merchants_secret_key_is_shown_once_and_stored_only_as_a_hash(flint: Flint):
    merchant = await flint.create_merchant("Acme Outdoor")

    assert merchant["id"].startswith("mer_") and merchant["secret_key"].startswith("sk_")
    assert len(merchant["secret_key"]) >= 43 and merchant["secret_key_hint"] == merchant["secret_key"][-4:]
    stored = await flint.pool.fetchrow("SELECT * FROM merchants WHERE id = $1", merchant["id"])
    assert bytes(stored["secret_key_hash"]) == hashlib.sha256(merchant["secret_key"].encode()).digest()
    assert merchant["secret_key"] not in await stored_text(flint, "merchants")


async def test_a_new_merchant_is_announced_with_its_name_and_never_its_secret(flint: Flint, kafka_bootstrap):
    async with TopicWatcher(kafka_bootstrap, INSTALLS_EVENTS) as events:
        # when the platform creates a merchant
        merchant = await flint.create_merchant("Zofia's Łódź Bakery")
        # then merchant.created (internal: the invoicing service shows the name) is published, keyed by the merchant
        [created] = await events.wait_for(lambda e: e.subject == merchant["id"])
    assert created.type == types.MERCHANT_CREATED and created.merchant_id == merchant["id"]
    assert parse_data(created).name == "Zofia's Łódź Bakery"
    assert not types.get(created.type).deliverable
    assert merchant["secret_key"] not in created.to_bytes().decode()


async def test_an_apps_client_secret_is_shown_once_and_stored_only_as_a_hash(flint: Flint):
    app = await flint.register_app("Refund Helper", scopes=["refunds:write", "orders:read"])

    assert app["client_id"] == app["id"] and app["id"].startswith("app_")
    assert app["client_secret"].startswith("cs_") and app["scopes"] == ["orders:read", "refunds:write"]
    assert app["redirect_uris"] == [REDIRECT_URI]
    assert app["client_secret"] not in await stored_text(flint, "apps")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "Basic Zm9vOmJhcg=="])
async def test_without_the_admin_key_no_merchant_or_app_is_created(flint: Flint, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    merchant = await flint.http.post("/v1/merchants", json={"name": "Mallory"}, headers=headers)
    app = await flint.http.post("/v1/apps", headers=headers,
                                json={"name": "x", "redirect_uris": [REDIRECT_URI], "scopes": ["orders:read"]})

    assert merchant.status_code == 401 and app.status_code == 401
    assert merchant.headers["content-type"] == "application/problem+json"
    assert await flint.pool.fetchval("SELECT count(*) FROM merchants") == 0
    assert await flint.pool.fetchval("SELECT count(*) FROM apps") == 0


async def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(flint: Flint):
    headers = {**flint.admin(), "Idempotency-Key": "create-acme-1"}

    first = await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)
    retry = await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()  # the secret key too: the client may have lost the first answer
    assert retry.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await flint.pool.fetchval("SELECT count(*) FROM merchants") == 1
    # the stored answer is encrypted: the secret key is still nowhere in the database in clear
    assert first.json()["secret_key"].encode() not in b"".join(
        bytes(r["body"]) for r in await flint.pool.fetch("SELECT body FROM flint_idempotency_keys"))


async def test_the_same_idempotency_key_with_another_body_is_refused(flint: Flint):
    headers = {**flint.admin(), "Idempotency-Key": "create-acme-2"}
    await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)

    other = await flint.http.post("/v1/merchants", json={"name": "Another"}, headers=headers)

    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "https://flint.dev/problems/idempotency_key_reused"
    assert other.json()["code"] == "idempotency_key_reused"
    assert await flint.pool.fetchval("SELECT count(*) FROM merchants") == 1


async def test_concurrent_retries_with_one_idempotency_key_create_one_app(flint: Flint):
    headers = {**flint.admin(), "Idempotency-Key": "register-helper"}
    body = {"name": "Refund Helper", "redirect_uris": [REDIRECT_URI], "scopes": ["orders:read"]}

    responses = await asyncio.gather(*(flint.http.post("/v1/apps", json=body, headers=headers) for _ in range(5)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["client_secret"] for r in responses}) == 1
    assert await flint.pool.fetchval("SELECT count(*) FROM apps") == 1


async def test_without_an_idempotency_key_each_request_creates(flint: Flint):
    await flint.create_merchant("Acme")
    await flint.create_merchant("Acme")

    assert await flint.pool.fetchval("SELECT count(*) FROM merchants") == 2


async def test_uninstall_honours_the_idempotency_key(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    tokens = await flint.install(merchant, app)
    install_id = (await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))).json()["id"]
    headers = {**flint.bearer(await flint.merchant_token(merchant)), "Idempotency-Key": "uninstall-1"}

    first = await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=headers)
    retry = await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=headers)

    assert first.status_code == retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"scopes": ["orders:read", "orders:everything"]}, "scopes", "unknown scope orders:everything"),
    ({"scopes": []}, "scopes", "must not be empty"),
    ({"redirect_uris": ["http://app.example/callback"]}, "redirect_uris", "must use https"),
    ({"redirect_uris": ["https://app.example/callback#frag"]}, "redirect_uris", "fragment"),
    ({"redirect_uris": ["/callback"]}, "redirect_uris", "absolute"),
    ({"redirect_uris": ["https://user:pw@app.example/cb"]}, "redirect_uris", "credentials"),
    ({"redirect_uris": []}, "redirect_uris", "must not be empty"),
    ({"name": ""}, "name", "must not be empty"),
])
async def test_an_app_with_bad_scopes_or_redirect_uris_is_refused_field_by_field(flint: Flint, body, field, reason):
    request = {"name": "Refund Helper", "redirect_uris": [REDIRECT_URI], "scopes": ["orders:read"], **body}

    response = await flint.http.post("/v1/apps", json=request, headers=flint.admin())

    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field and reason in error["message"], error
    assert await flint.pool.fetchval("SELECT count(*) FROM apps") == 0


async def test_loopback_http_redirect_uris_are_allowed_for_local_development(flint: Flint):
    app = await flint.register_app(redirect_uris=["http://127.0.0.1:8765/callback", "http://localhost:3000/cb"])

    assert app["redirect_uris"] == ["http://127.0.0.1:8765/callback", "http://localhost:3000/cb"]


async def test_idempotency_keys_live_at_least_a_day_and_are_purged_after_two(flint: Flint):
    headers = {**flint.admin(), "Idempotency-Key": "create-acme-3"}
    first = (await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)).json()
    kept_for = await flint.pool.fetchval("SELECT expires_at - created_at FROM flint_idempotency_keys")
    assert kept_for == timedelta(hours=48)

    await _age_keys(flint, hours=25)
    await Idempotency.purge_expired(flint.pool)
    assert (await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)).json() == first

    await _age_keys(flint, hours=24)  # 49 hours in all
    await Idempotency.purge_expired(flint.pool)

    assert await flint.pool.fetchval("SELECT count(*) FROM flint_idempotency_keys") == 0
    again = (await flint.http.post("/v1/merchants", json={"name": "Acme"}, headers=headers)).json()
    assert again["id"] != first["id"]


async def _age_keys(flint: Flint, *, hours: int) -> None:
    """As if ``hours`` had passed since the keys were made."""
    await flint.pool.execute("UPDATE flint_idempotency_keys SET created_at = created_at - make_interval(hours => $1), "
                             "expires_at = expires_at - make_interval(hours => $1)", hours)
