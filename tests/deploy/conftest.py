"""Fixtures for the broker's plugin listener: apps with their own SCRAM credential and ACLs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from flint_chassis.kafka_access import AppCredential, KafkaAccess
from flint_contracts.ids import new_id
from flint_contracts.topics import app_topic


@pytest.fixture(scope="session")
def plugin_bootstrap(stack: dict[str, str]) -> str:
    address = stack.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP")
    if not address:
        pytest.fail(
            "the broker's plugin listener is unknown: set FLINT_KAFKA_PLUGIN_BOOTSTRAP beside "
            "KAFKA_BOOTSTRAP_SERVERS (deploy/stack.py up writes both to stack.env)", pytrace=False,
        )
    return address


@pytest.fixture
def kafka_access(kafka_bootstrap: str, plugin_bootstrap: str) -> KafkaAccess:
    return KafkaAccess(kafka_bootstrap, plugin_bootstrap, timeout=10)


@pytest.fixture
async def new_app(kafka_access: KafkaAccess, kafka_bootstrap: str) -> AsyncIterator[Callable[[], Awaitable[AppCredential]]]:
    """Makes apps as installing them will: a credential, then read access to their topic.
    Afterwards their ACLs, SCRAM users and topics are removed from the shared broker."""
    made: list[str] = []

    async def make() -> AppCredential:
        app_id = new_id("app")
        made.append(app_id)
        credential = await kafka_access.create_credential(app_id)
        await kafka_access.grant_read(app_id)
        return credential

    yield make
    for app_id in made:
        await kafka_access.revoke_all(app_id)
        await kafka_access.delete_credential(app_id)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        leftover = [app_topic(a) for a in made if app_topic(a) in existing]
        if leftover:
            await admin.delete_topics(leftover)
    finally:
        await admin.close()
