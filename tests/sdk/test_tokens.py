"""Tokens as the real installs service issues them: an app installs with PKCE, its client
refreshes before expiry and once on a 401, hands every rotated refresh token to the app,
never refreshes twice at once, and a merchant's backend gets a new token when one is refused."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from flint_sdk import AsyncFlintClient, FlintClient, InstallFlow, OAuthError, StateMismatch, TokenSet
from flint_sdk.pkce import InstallDenied
from tests.installs.support import hidden_fields
from tests.sdk.conftest import APP_SCOPES, InstalledApp
from tests.sdk.platform import REDIRECT_URI, approve_in_browser, register_app

pytestmark = pytest.mark.integration


class Saved:
    """What an app's token store would receive."""

    def __init__(self) -> None:
        self.tokens: list[TokenSet] = []

    def save(self, tokens: TokenSet) -> None:
        self.tokens.append(tokens)

    async def save_async(self, tokens: TokenSet) -> None:
        self.tokens.append(tokens)


def expiring(tokens: TokenSet, in_seconds: float) -> TokenSet:
    return TokenSet(tokens.access_token, time.time() + in_seconds, tokens.refresh_token, tokens.scope)


def test_the_install_gives_tokens_for_the_approved_scopes(installed: InstalledApp):
    assert installed.tokens.refresh_token and installed.tokens.access_token
    assert installed.tokens.scope == " ".join(APP_SCOPES)
    assert installed.tokens.expires_at is not None and installed.tokens.expires_at > time.time() + 600


def test_a_forged_redirect_is_refused_and_the_code_stays_unused(flint, merchant):
    app = register_app(flint, APP_SCOPES)
    flow = InstallFlow(flint.installs_url, app["client_id"], app["client_secret"], REDIRECT_URI)
    try:
        pending = flow.start(APP_SCOPES)
        redirect = approve_in_browser(flint, pending.authorize_url, merchant["secret_key"])
        forged = redirect.replace(f"state={pending.state}", "state=forged")
        with pytest.raises(StateMismatch):
            flow.finish(pending, forged)
        assert flow.finish(pending, redirect).refresh_token
    finally:
        flow.close()


def test_a_merchant_who_denies_is_an_install_denied(flint, merchant):
    app = register_app(flint, APP_SCOPES)
    flow = InstallFlow(flint.installs_url, app["client_id"], app["client_secret"], REDIRECT_URI)
    try:
        pending = flow.start(APP_SCOPES)
        with httpx.Client(base_url=flint.installs_url) as browser:
            login = browser.get(pending.authorize_url)
            consent = browser.get(browser.post("/oauth/login", data={
                **hidden_fields(login.text), "secret_key": merchant["secret_key"]}).headers["location"])
            denied = browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "deny"})
        with pytest.raises(InstallDenied) as raised:
            flow.finish(pending, denied.headers["location"])
    finally:
        flow.close()
    assert raised.value.error == "access_denied"


def test_a_token_about_to_expire_is_refreshed_first_and_the_new_refresh_token_handed_over(flint, installed):
    # given the app's stored tokens expire in 10 seconds
    saved = Saved()
    with FlintClient.for_app(flint.installs_url, installed.client_id, installed.client_secret,
                             tokens=expiring(installed.tokens, 10), on_tokens=saved.save) as client:
        # when it makes two calls
        client.installs.own()
        own = client.installs.own()
    # then it refreshed once, before the first, and gave the app the rotated refresh token
    assert own.status == "active"
    [new] = saved.tokens
    assert new.refresh_token and new.refresh_token != installed.tokens.refresh_token
    assert new.access_token != installed.tokens.access_token and new.expires_at > time.time() + 600


def test_an_access_token_refused_with_401_is_refreshed_once(flint, installed):
    # given the app holds an access token Flint refuses, though not expired by its clock
    saved = Saved()
    refused = TokenSet("revoked-or-garbage", time.time() + 600, installed.tokens.refresh_token)
    with FlintClient.for_app(flint.installs_url, installed.client_id, installed.client_secret, tokens=refused,
                             on_tokens=saved.save) as client:
        own = client.installs.own()
    assert own.status == "active" and len(saved.tokens) == 1


async def test_concurrent_calls_with_a_stale_token_refresh_once(flint, installed):
    # Two refreshes with one refresh token would look like a stolen token and revoke the install.
    saved = Saved()
    async with AsyncFlintClient.for_app(flint.installs_url, installed.client_id, installed.client_secret,
                                        tokens=expiring(installed.tokens, 0), on_tokens=saved.save_async) as client:
        answers = await asyncio.gather(*(client.installs.own() for _ in range(8)))
        later = await client.installs.own()
    assert {a.id for a in answers} == {later.id} and len(saved.tokens) == 1


def test_a_refresh_token_flint_refuses_is_raised(flint, installed):
    # given the app's grant was revoked (its refresh token with it)
    revoked = httpx.post(f"{flint.installs_url}/oauth/revoke", data={"token": installed.tokens.refresh_token},
                         auth=(installed.client_id, installed.client_secret))
    assert revoked.status_code == 200
    with FlintClient.for_app(flint.installs_url, installed.client_id, installed.client_secret,
                             refresh_token=installed.tokens.refresh_token) as client:
        with pytest.raises(OAuthError) as raised:
            client.installs.own()
    assert (raised.value.status, raised.value.code) == (400, "invalid_grant")


class CountingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.token_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.token_requests += 1
        return self._inner.handle_request(request)


def test_a_merchant_backend_asks_for_a_token_once_and_again_when_it_is_revoked(flint, merchant):
    transport = CountingTransport()
    with FlintClient.for_merchant(flint.installs_url, merchant["id"], merchant["secret_key"],
                                  transport=transport) as client:
        client.installs.list()
        client.installs.list()
        assert transport.token_requests == 1
        # the merchant revokes the access token: the installs service refuses it at once
        token = client._auth.tokens.access_token  # noqa: SLF001 - the token the client holds
        revoked = httpx.post(f"{flint.installs_url}/oauth/revoke", data={
            "token": token, "client_id": merchant["id"], "client_secret": merchant["secret_key"]})
        assert revoked.status_code == 200
        assert httpx.get(f"{flint.installs_url}/v1/installs", headers={"Authorization": f"Bearer {token}"}
                         ).status_code == 401
        page = client.installs.list()
    assert page.data == [] and transport.token_requests == 2
