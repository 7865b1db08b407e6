"""The installs and orders services on real sockets, while this folder runs (tests isolate
themselves with fresh merchants and apps), and an installed app for tests that need one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from flint_chassis.kafka_access import AppCredential, KafkaAccess
from flint_contracts.topics import app_topic
from flint_sdk import InstallFlow, TokenSet
from tests.deploy.conftest import kafka_access, new_app, plugin_bootstrap  # noqa: F401 - shared fixtures
from tests.sdk.platform import REDIRECT_URI, approve_in_browser, create_merchant, register_app
from tests.sdk.served import FlintServices, ServedFlint

APP_SCOPES = ["orders:read", "orders:write"]


@pytest.fixture(scope="package")
def flint(server_url: str, kafka_bootstrap: str) -> Iterator[FlintServices]:
    with ServedFlint(server_url, kafka_bootstrap) as services:
        yield services


@pytest.fixture
def merchant(flint: FlintServices) -> dict[str, Any]:
    return create_merchant(flint)


@dataclass
class InstalledApp:
    """An app the merchant installed through the real OAuth flow, and the tokens it got."""

    app: dict[str, Any]
    merchant: dict[str, Any]
    tokens: TokenSet

    @property
    def client_id(self) -> str:
        return self.app["client_id"]

    @property
    def client_secret(self) -> str:
        return self.app["client_secret"]


def install(flint: FlintServices, merchant: dict[str, Any], scopes: list[str] = APP_SCOPES) -> InstalledApp:
    app = register_app(flint, scopes)
    flow = InstallFlow(flint.installs_url, app["client_id"], app["client_secret"], REDIRECT_URI)
    try:
        pending = flow.start(scopes)
        redirect = approve_in_browser(flint, pending.authorize_url, merchant["secret_key"])
        return InstalledApp(app, merchant, flow.finish(pending, redirect))
    finally:
        flow.close()


@pytest.fixture
def installed(flint: FlintServices, merchant: dict[str, Any]) -> InstalledApp:
    return install(flint, merchant)


@pytest.fixture
async def kafka_credential(kafka_access: KafkaAccess, kafka_bootstrap: str,  # noqa: F811
                           ) -> AsyncIterator[Callable[[str], Awaitable[AppCredential]]]:
    """Gives a registered app its Kafka credential and read access, as installing it will;
    removes both, and the app's topic, afterwards."""
    granted: list[str] = []

    async def grant(app_id: str) -> AppCredential:
        granted.append(app_id)
        credential = await kafka_access.create_credential(app_id)
        await kafka_access.grant_read(app_id)
        return credential

    yield grant
    for app_id in granted:
        await kafka_access.revoke_all(app_id)
        await kafka_access.delete_credential(app_id)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([app_topic(app_id) for app_id in granted])
    finally:
        await admin.close()
