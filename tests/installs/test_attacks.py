"""Bad input and attacks (issue 3): each gets the OAuth error or the 401/403 it should, and
changes nothing that is stored."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.installs.support import REDIRECT_URI, Authorization, Flint, basic, hidden_fields, pkce_pair, query_of

pytestmark = pytest.mark.integration


@pytest.fixture
async def merchant(flint: Flint) -> dict:
    return await flint.create_merchant("Acme Outdoor")


@pytest.fixture
async def app(flint: Flint) -> dict:
    return await flint.register_app("Refund Helper")


def oauth_error(response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"


def app_claims(flint: Flint, install_id: str, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": flint.settings.issuer, "sub": install_id, "aud": ["flint:orders", "flint:installs"],
              "merchant_id": "mer_x", "app_id": "app_x", "install_id": install_id, "scope": "orders:read",
              "iat": now, "exp": now + 600, "jti": secrets.token_urlsafe(8)}
    claims.update(changes)
    return claims


async def installed(flint: Flint, merchant: dict, app: dict) -> tuple[dict, str]:
    tokens = await flint.install(merchant, app)
    return tokens, jwt.decode(tokens["access_token"], options={"verify_signature": False})["install_id"]


# ---------------------------------------------------------------- code exchange
async def test_a_wrong_pkce_verifier_gets_invalid_grant_and_the_code_stays_the_apps(flint: Flint, merchant, app):
    # given a code from an approved request
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    before = await flint.snapshot()
    # when someone who stole the code exchanges it with another verifier
    wrong_verifier, _ = pkce_pair()
    response = await flint.exchange(app, code, auth, code_verifier=wrong_verifier)
    # then invalid_grant, and nothing changed: no token, the code not even spent
    oauth_error(response, "invalid_grant")
    assert "code_verifier" in response.json()["error_description"]
    assert await flint.snapshot() == before
    assert (await flint.exchange(app, code, auth)).status_code == 200


async def test_a_missing_verifier_gets_invalid_grant(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    before = await flint.snapshot()

    response = await flint.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
                                 app["client_id"], app["client_secret"])

    oauth_error(response, "invalid_grant")
    assert await flint.snapshot() == before


async def test_a_reused_code_gets_invalid_grant_and_revokes_what_the_first_use_bought(flint: Flint, merchant, app):
    # given a code already exchanged
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    first = (await flint.exchange(app, code, auth)).json()
    tokens_before = await flint.pool.fetchval("SELECT count(*) FROM refresh_tokens")
    # when it is presented again
    response = await flint.exchange(app, code, auth)
    # then invalid_grant, no new token, and (RFC 6749 §4.1.2) the first exchange's refresh token dies
    oauth_error(response, "invalid_grant")
    assert await flint.pool.fetchval("SELECT count(*) FROM refresh_tokens") == tokens_before
    oauth_error(await flint.refresh(app, first["refresh_token"]), "invalid_grant")
    assert await flint.pool.fetchval("SELECT count(*) FROM installs WHERE status = 'active'") == 1


async def test_an_expired_code_gets_invalid_grant(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    await flint.pool.execute("UPDATE authorization_codes SET expires_at = now() - interval '1 second'")
    before = await flint.snapshot()

    oauth_error(await flint.exchange(app, code, auth), "invalid_grant")

    assert await flint.snapshot() == before


async def test_a_code_exchanged_by_another_app_gets_invalid_grant(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    other = await flint.register_app("Other App")
    before = await flint.snapshot()

    oauth_error(await flint.exchange(other, code, auth), "invalid_grant")

    assert await flint.snapshot() == before


async def test_a_code_exchanged_with_another_redirect_uri_gets_invalid_grant(flint: Flint, merchant):
    app = await flint.register_app(redirect_uris=[REDIRECT_URI, "https://app.example/other"])
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    before = await flint.snapshot()

    oauth_error(await flint.exchange(app, code, auth, redirect_uri="https://app.example/other"), "invalid_grant")

    assert await flint.snapshot() == before


async def test_a_wrong_client_secret_gets_invalid_client(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    before = await flint.snapshot()

    response = await flint.exchange({**app, "client_secret": "cs_" + secrets.token_urlsafe(32)}, code, auth)

    oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")
    assert await flint.snapshot() == before


# ---------------------------------------------------------------- the authorization request
@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/oauth/callback",
    "https://app.example/oauth/callback/",
    "https://app.example/oauth/callback?next=https://evil.example",
    "https://app.example/oauth/callback.evil.example",
    "https://APP.example/oauth/callback",
    None,
])
async def test_a_redirect_uri_that_is_not_registered_exactly_is_an_error_page_never_a_redirect(
    flint: Flint, merchant, app, redirect_uri
):
    before = await flint.snapshot()
    auth = Authorization(app["client_id"])

    response = await flint.http.get(auth.url(redirect_uri=redirect_uri), headers={"accept": "text/html"})

    assert response.status_code == 400 and "location" not in response.headers
    assert "redirect_uri" in response.text and response.headers["content-type"].startswith("text/html")
    assert await flint.snapshot() == before


async def test_an_unknown_client_is_an_error_page_and_a_problem_for_non_browsers(flint: Flint):
    auth = Authorization("app_01JD3Z5Y1B2C3D4E5F6G7H8J9K")

    page = await flint.http.get(auth.url(), headers={"accept": "text/html"})
    problem = await flint.http.get(auth.url(), headers={"accept": "application/json"})

    assert page.status_code == 400 and "not registered" in page.text and "location" not in page.headers
    assert problem.status_code == 400 and problem.headers["content-type"] == "application/problem+json"


async def test_a_request_without_state_goes_back_with_invalid_request_and_no_code(flint: Flint, merchant, app):
    before = await flint.snapshot()
    auth = Authorization(app["client_id"])

    response = await flint.http.get(auth.url(state=None))

    assert response.status_code == 303
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request" and "state" in query["error_description"]
    assert "code" not in query and "state" not in query and query["iss"] == flint.settings.issuer
    assert await flint.snapshot() == before


async def test_a_state_changed_on_the_consent_form_is_refused(flint: Flint, merchant, app):
    # given the consent page of a request with state S
    auth = Authorization(app["client_id"])
    consent = await flint.log_in(auth, merchant["secret_key"])
    before = await flint.snapshot()
    # when the form comes back carrying another state
    response = await flint.decide(consent, state="attacker-state")
    # then it is refused on this site, with no redirect, and nothing is installed
    assert response.status_code == 403 and "location" not in response.headers
    assert await flint.snapshot() == before


@pytest.mark.parametrize("changes", [
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},
    {"code_challenge": None},
    {"code_challenge": "too-short"},
    {"response_type": "token"},
    {"scope": "invoices:write"},
    {"scope": "orders:everything"},
])
async def test_a_request_without_s256_pkce_or_with_scopes_the_app_lacks_goes_back_with_an_error(
    flint: Flint, merchant, app, changes
):
    before = await flint.snapshot()
    auth = Authorization(app["client_id"])

    response = await flint.http.get(auth.url(**changes))

    assert response.status_code == 303
    query = query_of(response.headers["location"])
    assert query["error"] in ("invalid_request", "invalid_scope", "unsupported_response_type")
    assert query["state"] == auth.state and "code" not in query
    assert await flint.snapshot() == before


async def test_a_forged_csrf_token_on_the_consent_form_is_refused(flint: Flint, merchant, app):
    consent = await flint.log_in(Authorization(app["client_id"]), merchant["secret_key"])
    before = await flint.snapshot()

    response = await flint.decide(consent, csrf_token=secrets.token_urlsafe(32))

    assert response.status_code == 403 and "location" not in response.headers
    assert await flint.snapshot() == before


async def test_a_csrf_token_from_another_merchants_session_is_refused(flint: Flint, merchant, app):
    # given a consent page an attacker got for their own merchant account
    attacker = await flint.create_merchant("Attacker")
    auth = Authorization(app["client_id"])
    attackers_form = await flint.log_in(auth, attacker["secret_key"])
    # when the victim's browser (logged in to its own account) posts the attacker's form
    await flint.log_in(auth, merchant["secret_key"])
    before = await flint.snapshot()
    response = await flint.decide(attackers_form)
    # then it is refused and nothing is installed
    assert response.status_code == 403
    assert await flint.snapshot() == before


async def test_a_consent_form_posted_without_a_session_installs_nothing(flint: Flint, merchant, app):
    consent = await flint.log_in(Authorization(app["client_id"]), merchant["secret_key"])
    flint.http.cookies.clear()
    before = await flint.snapshot()

    response = await flint.decide(consent)

    assert response.status_code == 401 and 'name="secret_key"' in response.text
    assert await flint.snapshot() == before


async def test_a_forged_login_form_is_refused_and_starts_no_session(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    await flint.http.get(auth.url())

    response = await flint.http.post("/oauth/login", data={**auth.params(), "csrf_token": "forged",
                                                            "secret_key": merchant["secret_key"]})

    assert response.status_code == 403
    assert not any(c.startswith("flint_session=") for c in response.headers.get_list("set-cookie"))


async def test_a_wrong_secret_key_on_the_login_form_starts_no_session(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    page = await flint.http.get(auth.url())

    response = await flint.http.post("/oauth/login", data={**hidden_fields(page.text),
                                                            "secret_key": "sk_" + secrets.token_urlsafe(32)})

    assert response.status_code == 401 and "not valid" in response.text
    assert not any(c.startswith("flint_session=") for c in response.headers.get_list("set-cookie"))


async def test_a_tampered_session_cookie_is_not_a_session(flint: Flint, merchant, app):
    auth = Authorization(app["client_id"])
    await flint.log_in(auth, merchant["secret_key"])
    cookie = flint.http.cookies.get("flint_session", path="/oauth")
    body, signature = cookie.rsplit(".", 1)
    flint.http.cookies.clear()
    flint.http.cookies.set("flint_session", body[:-2] + "xx." + signature, domain="installs.test", path="/oauth")

    response = await flint.http.get(auth.url())

    assert response.status_code == 200 and 'name="secret_key"' in response.text  # back to the login page


# ---------------------------------------------------------------- access tokens
async def test_an_expired_access_token_is_refused(flint: Flint, merchant, app):
    _, install_id = await installed(flint, merchant, app)
    token = await flint.sign(app_claims(flint, install_id, iat=int(time.time()) - 1000, exp=int(time.time()) - 60))

    response = await flint.http.get("/v1/install", headers=flint.bearer(token))

    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_a_token_signed_by_an_unknown_key_is_refused(flint: Flint, merchant, app):
    _, install_id = await installed(flint, merchant, app)
    stranger = Ed25519PrivateKey.generate()
    real_kid = (await flint.context.keys.signing_key()).kid

    unknown_kid = jwt.encode(app_claims(flint, install_id), stranger, algorithm="EdDSA", headers={"kid": "k-unknown"})
    borrowed_kid = jwt.encode(app_claims(flint, install_id), stranger, algorithm="EdDSA", headers={"kid": real_kid})

    first = await flint.http.get("/v1/install", headers=flint.bearer(unknown_kid))
    second = await flint.http.get("/v1/install", headers=flint.bearer(borrowed_kid))
    assert first.status_code == 401 and "unknown key" in first.json()["detail"]
    assert second.status_code == 401 and "signature" in second.json()["detail"].lower()


async def test_a_token_for_another_audience_is_refused(flint: Flint, merchant, app):
    _, install_id = await installed(flint, merchant, app)
    token = await flint.sign(app_claims(flint, install_id, aud=["flint:orders"]))

    response = await flint.http.get("/v1/install", headers=flint.bearer(token))

    assert response.status_code == 401 and "flint:installs" in response.json()["detail"]


async def test_an_unsigned_token_is_refused(flint: Flint, merchant, app):
    _, install_id = await installed(flint, merchant, app)
    token = jwt.encode(app_claims(flint, install_id), None, algorithm="none")

    assert (await flint.http.get("/v1/install", headers=flint.bearer(token))).status_code == 401


async def test_a_refresh_token_used_twice_revokes_the_whole_family(flint: Flint, merchant, app):
    # given a refresh token that was already rotated
    tokens, _ = await installed(flint, merchant, app)
    rotated = (await flint.refresh(app, tokens["refresh_token"])).json()
    count = await flint.pool.fetchval("SELECT count(*) FROM refresh_tokens")
    # when the old one is presented again (it was stolen)
    response = await flint.refresh(app, tokens["refresh_token"])
    # then invalid_grant, no new token, and the legitimate successor is dead too
    oauth_error(response, "invalid_grant")
    assert await flint.pool.fetchval("SELECT count(*) FROM refresh_tokens") == count
    oauth_error(await flint.refresh(app, rotated["refresh_token"]), "invalid_grant")
    assert await flint.pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL") == 0


async def test_a_refresh_token_presented_by_another_app_is_refused(flint: Flint, merchant, app):
    tokens, _ = await installed(flint, merchant, app)
    other = await flint.register_app("Other App")
    before = await flint.snapshot()

    oauth_error(await flint.refresh(other, tokens["refresh_token"]), "invalid_grant")

    assert await flint.snapshot() == before
    assert (await flint.refresh(app, tokens["refresh_token"])).status_code == 200


async def test_the_tokens_of_an_uninstalled_install_are_refused(flint: Flint, merchant, app):
    # given an install, and a code approved but not yet exchanged
    tokens, install_id = await installed(flint, merchant, app)
    pending = Authorization(app["client_id"])
    code = await flint.approve(merchant, pending)
    # when the merchant uninstalls
    merchant_token = await flint.merchant_token(merchant)
    await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=flint.bearer(merchant_token))
    before = await flint.snapshot()
    # then the access token, the refresh token and the pending code buy nothing
    assert (await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))).status_code == 401
    oauth_error(await flint.refresh(app, tokens["refresh_token"]), "invalid_grant")
    oauth_error(await flint.exchange(app, code, pending), "invalid_grant")
    assert await flint.snapshot() == before


async def test_a_merchant_key_of_another_merchant_gets_invalid_client(flint: Flint, merchant):
    other = await flint.create_merchant("Other Shop")
    before = await flint.snapshot()

    response = await flint.token({"grant_type": "client_credentials"}, merchant["id"], other["secret_key"])

    oauth_error(response, "invalid_client", 401)
    assert await flint.snapshot() == before


async def test_a_merchant_cannot_uninstall_another_merchants_install(flint: Flint, merchant, app):
    _, install_id = await installed(flint, merchant, app)
    other = await flint.create_merchant("Other Shop")
    other_token = await flint.merchant_token(other)
    before = await flint.snapshot()

    response = await flint.http.post(f"/v1/installs/{install_id}/uninstall", headers=flint.bearer(other_token))

    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert await flint.snapshot() == before


async def test_an_app_token_cannot_act_as_the_merchant(flint: Flint, merchant, app):
    tokens, install_id = await installed(flint, merchant, app)
    before = await flint.snapshot()

    response = await flint.http.post(f"/v1/installs/{install_id}/uninstall",
                                     headers=flint.bearer(tokens["access_token"]))

    assert response.status_code == 403
    assert await flint.snapshot() == before


async def test_an_app_cannot_use_the_client_credentials_grant_and_a_merchant_cannot_exchange_codes(
    flint: Flint, merchant, app
):
    oauth_error(await flint.token({"grant_type": "client_credentials"}, app["client_id"], app["client_secret"]),
                "unauthorized_client")
    oauth_error(await flint.token({"grant_type": "authorization_code", "code": "x"}, merchant["id"],
                                  merchant["secret_key"]), "unauthorized_client")
    oauth_error(await flint.token({"grant_type": "password"}, app["client_id"], app["client_secret"]),
                "unsupported_grant_type")


async def test_repeated_token_parameters_are_an_invalid_request(flint: Flint, app):
    response = await flint.http.post(
        "/oauth/token", content="grant_type=refresh_token&refresh_token=a&refresh_token=b",
        headers={"content-type": "application/x-www-form-urlencoded", **basic(app["client_id"], app["client_secret"])})

    oauth_error(response, "invalid_request")
