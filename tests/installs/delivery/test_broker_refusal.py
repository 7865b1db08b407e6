"""An app's credential, as the installs API hands it out and its installs grant it, reads the
app's own topic and nothing else: the broker refuses another app's topic and every internal
topic, to aiokafka, to a raw Fetch, and to Kafka's own console consumer."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.errors import TopicAuthorizationFailedError

from flint_chassis.kafka_access import AppCredential, client_properties
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import INSTALLS_EVENTS, ORDERS_EVENTS, REFUNDS_EVENTS, dead_letter_topic
from tests.deploy.conftest import plugin_bootstrap  # noqa: F401 - shared fixture
from tests.deploy.plugin_clients import plugin_consumer, publish, raw_fetch, read_values, refusal
from tests.installs.delivery.apps import install_app
from tests.installs.delivery.service import delivering_installs, delivering_settings
from tests.installs.support import Flint

pytestmark = pytest.mark.integration

TOOL = Path(__file__).resolve().parents[3] / "deploy" / "kafka-tool"
TOPIC_AUTHORIZATION_FAILED = 29
INTERNAL = [ORDERS_EVENTS, REFUNDS_EVENTS, INSTALLS_EVENTS, dead_letter_topic(ORDERS_EVENTS, "installs")]


@pytest.fixture
async def service(server_url, database_url, kafka_bootstrap, plugin_bootstrap) -> AsyncIterator[Flint]:  # noqa: F811
    settings = delivering_settings(server_url, database_url, kafka_bootstrap, plugin_bootstrap, role="api")
    async with delivering_installs(settings) as flint:
        yield flint


async def _installed_with_credential(service: Flint) -> AppCredential:
    plugin = await install_app(service, ["orders:read"])
    return await _credential_of_app(service, plugin.app)


async def _credential_of_app(service: Flint, app: dict) -> AppCredential:
    """The app's Kafka credential, made through the API with its client id and secret."""
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await service.http.post(f"/v1/apps/{app['id']}/kafka-credential",
                                       headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 201, response.text
    body = response.json()
    return AppCredential(username=body["username"], password=body["password"],
                         bootstrap_servers=body["bootstrap_servers"], topic=body["topic"],
                         group_prefix=body["group_prefix"])


async def test_aiokafka_with_an_apps_credential_reads_its_topic_and_is_refused_every_other(
        service, kafka_bootstrap):
    # given two installed apps, each with an event on its topic, and events on internal topics
    mine, theirs = await _installed_with_credential(service), await _installed_with_credential(service)
    await ensure_topics(kafka_bootstrap, INTERNAL)
    await publish(kafka_bootstrap, mine.topic, b"mine")
    await publish(kafka_bootstrap, theirs.topic, b"theirs")
    for topic in INTERNAL:
        await publish(kafka_bootstrap, topic, b"internal")
    # then my credential reads my topic
    consumer = plugin_consumer(mine, mine.topic, group=f"{mine.group_prefix}.check")
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"mine"]
    finally:
        await consumer.stop()
    # and the broker refuses it the other app's topic and every internal one, subscribed or fetched raw
    for topic in [theirs.topic, *INTERNAL]:
        error = await refusal(plugin_consumer(mine, topic, group=f"{mine.group_prefix}.check"))
        assert isinstance(error, TopicAuthorizationFailedError), (topic, error)
        code, records = await raw_fetch(mine, topic)
        assert (code, records) == (TOPIC_AUTHORIZATION_FAILED, None), topic


def console_consumer(credential: AppCredential, folder: Path, *args: str) -> subprocess.CompletedProcess:
    config = folder / f"{credential.username}.properties"
    config.write_text(client_properties(credential))
    config.chmod(0o600)
    return subprocess.run(
        [str(TOOL), "--client-config", str(config), "console-consumer", "--from-beginning",
         "--max-messages", "1", "--timeout-ms", "15000", *args],
        capture_output=True, text=True, timeout=120,
    )


async def test_kafkas_console_consumer_with_an_apps_credential_is_refused_other_topics(
        service, kafka_bootstrap, tmp_path):
    mine, theirs = await _installed_with_credential(service), await _installed_with_credential(service)
    await ensure_topics(kafka_bootstrap, [ORDERS_EVENTS])
    await publish(kafka_bootstrap, mine.topic, b"mine")
    await publish(kafka_bootstrap, theirs.topic, b"theirs")
    # my own topic, in a group named after my app: read
    own = console_consumer(mine, tmp_path, "--topic", mine.topic, "--group", f"{mine.group_prefix}.console")
    assert own.returncode == 0 and own.stdout.split() == ["mine"], own.stderr
    # the other app's topic and the internal orders topic: refused by the broker
    for topic in (theirs.topic, ORDERS_EVENTS):
        refused = console_consumer(mine, tmp_path, "--topic", topic, "--group", f"{mine.group_prefix}.console")
        assert "Not authorized to access topics" in refused.stderr and topic in refused.stderr, refused.stderr
        assert refused.stdout.strip() == "" and "Processed a total of 0 messages" in refused.stderr
