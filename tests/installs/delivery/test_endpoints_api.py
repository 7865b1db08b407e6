"""The webhook endpoints API with an app's token: create (the secret shown once), the URL
policy at creation, list, get, delete, re-enable, secret rotation with an overlap, the
endpoint limit, and one install never seeing another's endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from flint_contracts.limits import MAX_WEBHOOK_ENDPOINTS_PER_INSTALL
from flint_installs.delivery import repository
from tests.installs.delivery.apps import InstalledApp, install_app
from tests.installs.delivery.conftest import dev_settings
from tests.installs.delivery.resolvers import ScriptedResolver
from tests.installs.support import settings_for

pytestmark = pytest.mark.integration

PUBLIC = "93.184.215.14"
HOOK = "https://hooks.plugin.example/flint"
RESOLVER = ScriptedResolver({"hooks.plugin.example": [[PUBLIC]], "intranet.plugin.example": [["10.1.2.3"]],
                             "rebinds.plugin.example": [[PUBLIC, "127.0.0.1"]]})


@pytest.fixture
def installs_settings(server_url, database_url, kafka_bootstrap):
    return settings_for(server_url, database_url, kafka_bootstrap, webhooks=dev_settings(allow_loopback=False))


@pytest.fixture
async def plugin(flint) -> InstalledApp:
    flint.context.resolver = RESOLVER
    return await install_app(flint, ["orders:read"])


async def _stored(plugin: InstalledApp) -> list[str]:
    return [r["id"] for r in await plugin.flint.pool.fetch("SELECT id FROM webhook_endpoints ORDER BY id")]


async def test_a_new_endpoint_shows_its_secret_once_and_only_a_hint_afterwards(plugin):
    # when the app creates an endpoint
    created = await plugin.create_endpoint(HOOK)
    # then the answer holds the secret, once; reading the endpoint shows its last four characters
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert (created["object"], created["url"], created["status"], created["install_id"]) == (
        "webhook_endpoint", HOOK, "enabled", plugin.install_id)
    fetched = (await plugin.call("GET", f"/v1/webhook-endpoints/{created['id']}")).json()
    assert "secret" not in fetched and secret not in str(fetched)
    assert [s["hint"] for s in fetched["signing_secrets"]] == [secret[-4:]]
    listed = (await plugin.call("GET", "/v1/webhook-endpoints")).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]] and secret not in str(listed)
    # and the secret is stored encrypted, usable for signing
    async with plugin.flint.pool.acquire() as conn:
        assert await repository.active_secrets(conn, plugin.flint.context.secret, created["id"],
                                               now=datetime.now().astimezone()) == [secret]


async def test_a_retry_with_the_same_idempotency_key_shows_the_same_endpoint_and_secret(plugin):
    headers = {"Idempotency-Key": "hook-1"}
    first = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": HOOK}, headers=headers)
    again = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": HOOK}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert await _stored(plugin) == [first.json()["id"]]


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://hooks.plugin.example/flint", "url_scheme"),
    ("hooks.plugin.example/flint", "url_scheme"),
    ("http://hooks.plugin.example/flint", "url_scheme"),
    ("https://user:secret@hooks.plugin.example/flint", "url_userinfo"),
    ("https://hooks.plugin.example/flint#top", "url_fragment"),
    ("https://10.0.0.7/flint", "url_address"),
    ("https://169.254.169.254/latest/meta-data", "url_address"),
    ("https://127.0.0.1:8443/flint", "url_address"),
    ("https://[::ffff:192.168.0.1]/flint", "url_address"),
    ("https://2130706433/flint", "url_host"),
    ("https://intranet.plugin.example/flint", "url_address"),
    ("https://rebinds.plugin.example/flint", "url_address"),
    ("https://nowhere.plugin.example/flint", "url_unresolvable"),
])
async def test_an_endpoint_url_that_is_not_https_to_a_public_address_is_refused_and_nothing_is_stored(
        plugin, url, code):
    response = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": url})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "webhook_url_refused"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("url", code)]
    assert await _stored(plugin) == []


async def test_an_endpoint_url_over_2000_characters_is_refused_by_the_schema(plugin):
    response = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": HOOK + "/" + "a" * 2000})
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("url", "too_long")]
    assert await _stored(plugin) == []


async def test_http_to_loopback_is_accepted_only_with_the_development_setting(flint):
    flint.context.resolver = RESOLVER
    plugin = await install_app(flint, ["orders:read"])
    refused = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:19150/hook"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "url_scheme"
    # when the development setting is on
    flint.context.settings.webhooks.allow_loopback = True
    try:
        accepted = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:19150/hook"})
        private = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": "http://10.0.0.7/hook"})
    finally:
        flint.context.settings.webhooks.allow_loopback = False
    # then loopback is accepted, and a private address still is not
    assert accepted.status_code == 201, accepted.text
    assert private.status_code == 422 and private.json()["errors"][0]["code"] == "url_address"


async def test_another_installs_endpoints_are_not_found(plugin, flint):
    mine = await plugin.create_endpoint(HOOK)
    stranger = await install_app(flint, ["orders:read"])
    path = f"/v1/webhook-endpoints/{mine['id']}"
    answers = [await stranger.call("GET", path), await stranger.call("DELETE", path),
               await stranger.call("POST", f"{path}/enable"), await stranger.call("POST", f"{path}/rotate-secret"),
               await stranger.call("GET", f"{path}/deliveries")]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "not_found")] * 5
    assert (await stranger.call("GET", "/v1/webhook-endpoints")).json()["data"] == []
    assert (await plugin.call("GET", path)).status_code == 200


async def test_a_merchant_token_cannot_manage_endpoints(plugin):
    token = await plugin.flint.merchant_token(plugin.merchant)
    response = await plugin.flint.http.post("/v1/webhook-endpoints", json={"url": HOOK},
                                            headers=plugin.flint.bearer(token))
    assert (response.status_code, response.json()["code"]) == (403, "wrong_token_kind")


async def test_a_deleted_endpoint_is_gone(plugin):
    created = await plugin.create_endpoint(HOOK)
    deleted = await plugin.call("DELETE", f"/v1/webhook-endpoints/{created['id']}")
    assert deleted.status_code == 204
    assert (await plugin.call("GET", f"/v1/webhook-endpoints/{created['id']}")).status_code == 404
    assert await _stored(plugin) == []


async def test_a_rotation_keeps_the_old_secret_signing_for_the_overlap(plugin):
    created = await plugin.create_endpoint(HOOK)
    # when the secret is rotated with a one-hour overlap
    rotated = await plugin.call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret",
                                json={"overlap_seconds": 3600})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    # then both sign, newest first, and the old one stops in an hour
    secrets = rotated.json()["signing_secrets"]
    assert [s["hint"] for s in secrets] == [new[-4:], created["secret"][-4:]]
    assert secrets[0]["expires_at"] is None
    rotated_at = datetime.fromisoformat(secrets[0]["created_at"])
    assert datetime.fromisoformat(secrets[1]["expires_at"]) - rotated_at == timedelta(hours=1)
    async with plugin.flint.pool.acquire() as conn:
        signing = await repository.active_secrets(conn, plugin.flint.context.secret, created["id"],
                                                  now=rotated_at)
    assert signing == [new, created["secret"]]


async def test_a_rotation_without_overlap_stops_the_old_secret_at_once(plugin):
    created = await plugin.create_endpoint(HOOK)
    rotated = (await plugin.call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret",
                                 json={"overlap_seconds": 0})).json()
    assert [s["hint"] for s in rotated["signing_secrets"]] == [rotated["secret"][-4:]]


@pytest.mark.parametrize("body", [{"overlap_seconds": -1}, {"overlap_seconds": 8 * 86400}, {"overlap": 60}])
async def test_a_rotation_with_a_bad_overlap_is_refused_and_changes_nothing(plugin, body):
    created = await plugin.create_endpoint(HOOK)
    response = await plugin.call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret", json=body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    listed = (await plugin.call("GET", f"/v1/webhook-endpoints/{created['id']}")).json()
    assert [s["hint"] for s in listed["signing_secrets"]] == [created["secret"][-4:]]


async def test_re_enabling_a_disabled_endpoint_clears_its_failure_record(plugin):
    created = await plugin.create_endpoint(HOOK)
    async with plugin.flint.pool.acquire() as conn:
        await repository.disable_endpoint(conn, created["id"], now=datetime.now().astimezone(), reason="failing")
    assert (await plugin.call("GET", f"/v1/webhook-endpoints/{created['id']}")).json()["status"] == "disabled"
    enabled = await plugin.call("POST", f"/v1/webhook-endpoints/{created['id']}/enable")
    assert enabled.status_code == 200, enabled.text
    body = enabled.json()
    assert (body["status"], body["disabled_at"], body["disabled_reason"], body["failing_since"]) == (
        "enabled", None, None, None)


async def test_an_install_has_a_limited_number_of_endpoints(plugin):
    for _ in range(MAX_WEBHOOK_ENDPOINTS_PER_INSTALL):
        await plugin.create_endpoint(HOOK)
    response = await plugin.call("POST", "/v1/webhook-endpoints", json={"url": HOOK})
    assert (response.status_code, response.json()["code"]) == (422, "webhook_endpoint_limit")
    assert len(await _stored(plugin)) == MAX_WEBHOOK_ENDPOINTS_PER_INSTALL


async def test_endpoints_are_listed_page_by_page(plugin):
    made = [(await plugin.create_endpoint(HOOK))["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"starting_after": cursor} if cursor else {})
        page = (await plugin.call("GET", "/v1/webhook-endpoints", params=params)).json()
        seen += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == sorted(made)
