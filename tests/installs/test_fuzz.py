"""Property-based fuzz of every operation of the installs API (schemathesis, valid and
invalid inputs from the OpenAPI document) against the running service on the real
PostgreSQL and Kafka: no answer is a server error, every error is a Problem (the OAuth
token and revocation endpoints answer RFC 6749 errors, by design)."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from flint_installs.app import create_app
from tests.installs.support import ADMIN_KEY, settings_for
from tests.support.fuzzing import CASES, FUZZ_SETTINGS, UNLIMITED, check_answer, fuzz_secret, load_schema
from tests.support.threaded_server import ThreadedServer

pytestmark = pytest.mark.integration


class Target:
    def __init__(self, url: str, merchant: dict, token: str, install_ids: list[str]) -> None:
        self.url, self.merchant, self.install_ids = url, merchant, install_ids
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        self.merchant_token = {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def installs_target(server_url: str, kafka_bootstrap: str) -> Iterator[Target]:
    database = f"test_installs_fuzz_{secrets.token_hex(6)}"
    settings = settings_for(server_url, f"{server_url.rsplit('/', 1)[0]}/{database}", kafka_bootstrap,
                            secret=fuzz_secret(), **UNLIMITED)
    try:
        with ThreadedServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            merchant = client.post("/v1/merchants", json={"name": "Fuzz"}, headers=admin).raise_for_status().json()
            token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=(merchant["id"], merchant["secret_key"])).raise_for_status().json()
            yield Target(server.url, merchant, token["access_token"], [])
    finally:
        print(f"\nfuzz: {CASES['installs']} generated cases against installs")
        asyncio.run(_drop(server_url, database))


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
    if case.path in ("/v1/merchants", "/v1/apps"):
        headers = installs_target.admin
    elif case.path.startswith("/v1/"):
        headers = installs_target.merchant_token
    else:
        headers = {}
    if random.random() < 0.1:
        headers = {}  # the generated Authorization header, if any: no token, or a bad one
    response = case.call(base_url=installs_target.url, headers=headers)
    check_answer("installs", case, response)
