"""Property-based fuzz of every operation of the installs API (schemathesis, valid and
invalid inputs from the OpenAPI document) against the running service on the real
PostgreSQL and Kafka: no answer is a server error, every error is a Problem (the OAuth
token and revocation endpoints answer RFC 6749 errors, by design). Each operation is called
as its caller would: the admin key, a merchant's token, an installed app's token (webhook
endpoints, deliveries, the event feed), or the app's client id and secret (its Kafka
credential, made on the real broker)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from flint_installs.app import create_app
from flint_sdk.pkce import authorization_code, code_exchange, start_install
from tests.installs.delivery.resolvers import ScriptedResolver
from tests.installs.delivery.service import forget_apps
from tests.installs.support import ADMIN_KEY, settings_for
from tests.sdk.platform import REDIRECT_URI, approve_in_browser
from tests.sdk.served import FlintServices
from tests.support.fuzzing import CASES, FUZZ_SETTINGS, UNLIMITED, check_answer, fuzz_secret, load_schema
from tests.support.threaded_server import ThreadedServer

pytestmark = pytest.mark.integration


class Target:
    def __init__(self, url: str, merchant: dict, token: str, install_ids: list[str], app: dict,
                 app_token: str, endpoint_id: str) -> None:
        self.url, self.merchant, self.install_ids = url, merchant, install_ids
        # Ids of things that exist, put in the generated paths half the time, so the fuzz
        # reaches the operations' work and not only their "not found".
        self.existing = {"app_id": app["id"], "endpoint_id": endpoint_id}
        self.turns = itertools.count()
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        self.merchant_token = {"Authorization": f"Bearer {token}"}
        self.app_token = {"Authorization": f"Bearer {app_token}"}
        basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
        self.app_client = {"Authorization": f"Basic {basic}"}

    def headers_for(self, path: str) -> dict[str, str]:
        """What the operation's caller sends: the admin key, a merchant's or an app's token, or
        an app's client id and secret."""
        if path in ("/v1/merchants", "/v1/apps"):
            return self.admin
        if path.startswith("/v1/apps/"):
            return self.app_client
        if path == "/v1/install" or path.startswith(APP_TOKEN_PATHS):
            return self.app_token
        return self.merchant_token if path.startswith("/v1/") else {}


APP_TOKEN_PATHS = ("/v1/webhook-endpoints", "/v1/deliveries", "/v1/events")


@pytest.fixture(scope="module")
def installs_target(server_url: str, kafka_bootstrap: str) -> Iterator[Target]:
    database = f"test_installs_fuzz_{secrets.token_hex(6)}"
    settings = settings_for(server_url, f"{server_url.rsplit('/', 1)[0]}/{database}", kafka_bootstrap,
                            secret=fuzz_secret(), **UNLIMITED)
    app = None
    service = create_app(settings)
    # Webhook URLs of the fuzz never reach DNS: one name resolves to a public address, the rest fail.
    service.state.installs.resolver = ScriptedResolver({"plugin.example": [["93.184.215.14"]]})
    try:
        with ThreadedServer(service) as server, httpx.Client(base_url=server.url) as client:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            merchant = client.post("/v1/merchants", json={"name": "Fuzz"}, headers=admin).raise_for_status().json()
            token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=(merchant["id"], merchant["secret_key"])).raise_for_status().json()
            app = client.post("/v1/apps", headers=admin, json={
                "name": "Fuzz", "redirect_uris": [REDIRECT_URI], "scopes": ["orders:read"]}).raise_for_status().json()
            app_token = _installed(server.url, merchant, app)
            endpoint = client.post("/v1/webhook-endpoints", json={"url": "https://plugin.example/hook"},
                                   headers={"Authorization": f"Bearer {app_token}"}).raise_for_status().json()
            yield Target(server.url, merchant, token["access_token"], [], app, app_token, endpoint["id"])
    finally:
        print(f"\nfuzz: {CASES['installs']} generated cases against installs")
        asyncio.run(_drop(server_url, database))
        if app is not None:
            asyncio.run(forget_apps(kafka_bootstrap, settings.kafka_plugin_bootstrap, [app["id"]]))


def _installed(installs_url: str, merchant: dict, app: dict) -> str:
    """An access token of the app, installed by the merchant through the real OAuth flow
    (its pages and token endpoint at the server's address, not at the issuer's name)."""
    pending = start_install(f"{installs_url}/oauth/authorize", app["client_id"], REDIRECT_URI, ["orders:read"])
    redirect = approve_in_browser(FlintServices(installs_url, installs_url), pending.authorize_url,
                                  merchant["secret_key"])
    code = authorization_code(pending, redirect)
    request = code_exchange(f"{installs_url}/oauth/token", app["client_id"], app["client_secret"], code, pending)
    with httpx.Client() as client:
        return client.send(request).raise_for_status().json()["access_token"]


async def _drop(server_url: str, database: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


schema = load_schema("installs")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_the_installs_api_fail(case, installs_target: Target):
    # A counter, not random(): hypothesis seeds `random` the same for every example it runs.
    turn = next(installs_target.turns)
    headers = installs_target.headers_for(case.path)
    for name, value in installs_target.existing.items():
        # DELETE gets generated ids only: the endpoint must outlive it for the operations after it.
        if name in (case.path_parameters or {}) and turn % 2 == 0 and case.method != "DELETE":
            case.path_parameters[name] = value
    if turn % 10 == 3:
        headers = {}  # the generated Authorization header, if any: no token, or a bad one
    response = case.call(base_url=installs_target.url, headers=headers)
    check_answer("installs", case, response)
