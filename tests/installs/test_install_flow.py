"""The install as a merchant and an app live it: consent, code, tokens, events, uninstall."""

from __future__ import annotations

import asyncio
import json

import httpx
import jwt
import pytest
from jwt.algorithms import OKPAlgorithm

from flint_contracts.topics import INSTALLS_EVENTS
from tests.installs.support import REDIRECT_URI, Authorization, Flint, TopicWatcher, hidden_fields, query_of

pytestmark = pytest.mark.integration


async def claims_of(flint: Flint, token: str) -> dict:
    """Verify a token as any outside party would: with the published JWKS."""
    keys = {k["kid"]: k for k in (await flint.http.get("/.well-known/jwks.json")).json()["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    key = OKPAlgorithm.from_jwk(json.dumps(keys[kid]))
    return jwt.decode(token, key, algorithms=["EdDSA"], audience="flint:orders", issuer=flint.settings.issuer)


async def install_events(flint: Flint) -> int:
    """Install events in the outbox (creating a merchant also writes its merchant.created)."""
    return await flint.pool.fetchval(
        "SELECT count(*) FROM flint_outbox WHERE convert_from(payload, 'UTF8')::jsonb ->> 'type' LIKE 'install.%'")


async def test_an_approved_install_gives_the_app_tokens_as_docs_auth_md_describes(flint: Flint, kafka_bootstrap):
    # given a merchant and an app asking for three scopes
    merchant = await flint.create_merchant()
    app = await flint.register_app(scopes=["orders:read", "refunds:read", "refunds:write"])
    async with TopicWatcher(kafka_bootstrap, INSTALLS_EVENTS) as events:
        # when the merchant approves two of them and the app exchanges the code
        tokens = await flint.install(merchant, app, scope="orders:read refunds:write")

        # then the access token is a 15-minute EdDSA JWT with every claim of docs/auth.md
        header = jwt.get_unverified_header(tokens["access_token"])
        assert header["alg"] == "EdDSA" and header["kid"]
        claims = await claims_of(flint, tokens["access_token"])
        assert claims["iss"] == "http://installs.test"
        assert claims["aud"] == ["flint:orders", "flint:refunds", "flint:invoicing", "flint:installs"]
        assert claims["merchant_id"] == merchant["id"] and claims["app_id"] == app["id"]
        assert claims["sub"] == claims["install_id"] and claims["install_id"].startswith("ins_")
        assert claims["scope"] == "orders:read refunds:write"
        assert claims["exp"] - claims["iat"] == 900 and claims["jti"]
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
        assert tokens["refresh_token"].startswith("rt_")

        # and the app sees its install
        own = await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))
        assert own.status_code == 200
        assert own.json()["id"] == claims["install_id"] and own.json()["scopes"] == ["orders:read", "refunds:write"]

        # and every service hears install.created, keyed by the install
        [created] = await events.wait_for(lambda e: e.subject == claims["install_id"])
    assert created.type == "install.created" and created.merchant_id == merchant["id"]
    assert created.data["install_id"] == claims["install_id"] and created.data["app_id"] == app["id"]
    assert created.data["scopes"] == ["orders:read", "refunds:write"] and created.data["status"] == "active"


async def test_the_consent_page_names_the_app_and_each_requested_scope_in_words(flint: Flint):
    merchant = await flint.create_merchant("Acme Outdoor")
    app = await flint.register_app("Refund Helper", scopes=["orders:read", "refunds:write", "invoices:read"])

    consent = await flint.log_in(Authorization(app["client_id"], scope="orders:read refunds:write"),
                                 merchant["secret_key"])

    page = consent.text
    assert "Install Refund Helper on Acme Outdoor?" in page
    assert "See your orders" in page and "Refund your orders" in page
    assert "invoices:read" not in page  # asked for two of its three scopes: only those are shown
    assert consent.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in consent.headers[
        "content-security-policy"]
    cookie = next(c for c in flint.login_response.headers.get_list("set-cookie") if c.startswith("flint_session="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "path=/oauth" in cookie.lower()


async def test_a_merchant_logged_in_can_switch_to_another_merchant(flint: Flint):
    merchant, other = await flint.create_merchant("Acme Outdoor"), await flint.create_merchant("Other Shop")
    app = await flint.register_app()
    auth = Authorization(app["client_id"])
    consent = await flint.log_in(auth, merchant["secret_key"])

    switch = await flint.http.get(auth.url(prompt="login"))

    assert "Not you?" in consent.text and 'name="secret_key"' in switch.text
    form = hidden_fields(switch.text)
    assert "prompt" not in form
    response = await flint.http.post("/oauth/login", data={**form, "secret_key": other["secret_key"]})
    assert "on Other Shop?" in (await flint.http.get(response.headers["location"])).text


async def test_a_denied_request_goes_back_with_access_denied_and_installs_nothing(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    auth = Authorization(app["client_id"])

    response = await flint.decide(await flint.log_in(auth, merchant["secret_key"]), "deny")

    assert response.status_code == 303
    query = query_of(response.headers["location"])
    assert response.headers["location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == "access_denied" and query["state"] == auth.state and "code" not in query
    assert await flint.pool.fetchval("SELECT count(*) FROM installs") == 0
    assert await install_events(flint) == 0


async def test_the_state_comes_back_exactly_as_sent(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    auth = Authorization(app["client_id"], state="a b&c=d/é?#%25+")

    code = await flint.approve(merchant, auth)  # asserts state equality itself

    assert code


async def test_a_reinstall_with_other_scopes_updates_the_install_and_says_so(flint: Flint, kafka_bootstrap):
    # given an app installed with orders:read only
    merchant = await flint.create_merchant()
    app = await flint.register_app(scopes=["orders:read", "refunds:read", "refunds:write"])
    first = await flint.install(merchant, app, scope="orders:read")
    install_id = jwt.decode(first["access_token"], options={"verify_signature": False})["install_id"]
    async with TopicWatcher(kafka_bootstrap, INSTALLS_EVENTS) as events:
        # when the merchant approves it again with refunds
        second = await flint.install(merchant, app, scope="orders:read refunds:write")

        # then it is the same install, now with both scopes
        claims = jwt.decode(second["access_token"], options={"verify_signature": False})
        assert claims["install_id"] == install_id and claims["scope"] == "orders:read refunds:write"
        [updated] = await events.wait_for(lambda e: e.subject == install_id and e.type == "install.scopes_updated")
    assert updated.type == "install.scopes_updated"
    assert updated.data["scopes"] == ["orders:read", "refunds:write"]
    assert updated.previous == {"scopes": ["orders:read"]}
    assert updated.version == 2 and updated.sequence == 2


async def test_two_first_approvals_at_once_make_one_install(flint: Flint):
    # given the same merchant on two consent pages (two browsers) for the same app
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    other_browser = Flint(httpx.AsyncClient(transport=flint.http._transport, base_url=str(flint.http.base_url)),
                          flint.context)
    auths = [Authorization(app["client_id"]), Authorization(app["client_id"])]
    consents = [await flint.log_in(auths[0], merchant["secret_key"]),
                await other_browser.log_in(auths[1], merchant["secret_key"])]
    # when both approve at the same moment
    answers = await asyncio.gather(flint.decide(consents[0]), other_browser.decide(consents[1]))
    # then both get a code, and both codes buy tokens for one and the same install
    codes = [query_of(a.headers["location"])["code"] for a in answers]
    tokens = [(await flint.exchange(app, code, auth)).json() for code, auth in zip(codes, auths)]
    installs = {jwt.decode(t["access_token"], options={"verify_signature": False})["install_id"] for t in tokens}
    assert len(installs) == 1
    assert await flint.pool.fetchval("SELECT count(*) FROM installs") == 1
    assert await install_events(flint) == 1
    await other_browser.http.aclose()


async def test_refresh_tokens_rotate_and_keep_the_grant(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    tokens = await flint.install(merchant, app, scope="orders:read")

    refreshed = await flint.refresh(app, tokens["refresh_token"])

    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["refresh_token"] != tokens["refresh_token"] and body["scope"] == "orders:read"
    again = await flint.refresh(app, body["refresh_token"])
    assert again.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"


async def test_uninstall_revokes_every_token_of_the_install_and_tells_every_service(flint: Flint, kafka_bootstrap):
    # given an installed app with an access token and a refresh token
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    tokens = await flint.install(merchant, app)
    install_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["install_id"]
    merchant_token = await flint.merchant_token(merchant)
    async with TopicWatcher(kafka_bootstrap, INSTALLS_EVENTS) as events:
        # when the merchant uninstalls it
        response = await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=flint.bearer(merchant_token))

        # then the install is uninstalled and install.uninstalled is published
        assert response.status_code == 200 and response.json()["status"] == "uninstalled"
        [gone] = await events.wait_for(lambda e: e.subject == install_id and e.type == "install.uninstalled")
    assert gone.type == "install.uninstalled" and gone.data["status"] == "uninstalled"
    # and the app's access token and refresh token are refused
    own = await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))
    assert own.status_code == 401 and own.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    refused = await flint.refresh(app, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    # and uninstalling again changes nothing more
    again = await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=flint.bearer(merchant_token))
    assert again.status_code == 200 and again.json()["uninstalled_at"] == response.json()["uninstalled_at"]
    assert await flint.pool.fetchval("SELECT count(*) FROM flint_outbox WHERE key = $1", install_id.encode()) == 2


async def test_after_an_uninstall_a_new_approval_is_a_new_install(flint: Flint):
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    first = jwt.decode((await flint.install(merchant, app))["access_token"], options={"verify_signature": False})
    merchant_token = await flint.merchant_token(merchant)
    await flint.http.post(f"/v1/installs/{first['install_id']}/uninstall", headers=flint.bearer(merchant_token))

    second = jwt.decode((await flint.install(merchant, app))["access_token"], options={"verify_signature": False})

    assert second["install_id"] != first["install_id"]
    listed = await flint.http.get("/v1/installs", headers=flint.bearer(merchant_token))
    assert [(i["id"], i["status"]) for i in listed.json()["data"]] == [
        (first["install_id"], "uninstalled"), (second["install_id"], "active")]


async def test_a_merchant_lists_only_its_own_installs_page_by_page(flint: Flint):
    merchant, other = await flint.create_merchant("One"), await flint.create_merchant("Two")
    apps = [await flint.register_app(f"App {i}") for i in range(3)]
    for app in apps:
        await flint.install(merchant, app)
    await flint.install(other, apps[0])
    token = await flint.merchant_token(merchant)

    first = (await flint.http.get("/v1/installs?limit=2", headers=flint.bearer(token))).json()
    rest = (await flint.http.get(f"/v1/installs?limit=2&starting_after={first['next_cursor']}",
                                 headers=flint.bearer(token))).json()

    assert first["has_more"] is True and rest["has_more"] is False and rest["next_cursor"] is None
    listed = first["data"] + rest["data"]
    assert sorted(i["app_id"] for i in listed) == sorted(a["id"] for a in apps)
    assert {i["merchant_id"] for i in listed} == {merchant["id"]}


async def test_a_merchant_backend_gets_a_merchant_token_with_its_secret_key(flint: Flint):
    merchant = await flint.create_merchant()

    response = await flint.token({"grant_type": "client_credentials", "scope": "orders:read"},
                                 merchant["id"], merchant["secret_key"])

    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body and body["scope"] == "orders:read"
    claims = await claims_of(flint, body["access_token"])
    assert claims["sub"] == merchant["id"] and claims["merchant_id"] == merchant["id"]
    assert claims["app_id"] is None and claims["install_id"] is None
    # a merchant token is not an app token
    assert (await flint.http.get("/v1/install", headers=flint.bearer(body["access_token"]))).status_code == 403


async def test_the_merchant_secret_key_can_also_be_sent_in_the_form_body(flint: Flint):
    merchant = await flint.create_merchant()

    response = await flint.http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": merchant["id"], "client_secret": merchant["secret_key"]})

    assert response.status_code == 200
    assert response.json()["scope"].split() == ["orders:read", "orders:write", "refunds:read", "refunds:write",
                                                "invoices:read", "invoices:write"]
