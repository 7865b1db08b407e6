"""Kafka's own Java console consumer, configured as a plugin developer would configure any
JVM client, gets the same answers from the broker as aiokafka does."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from flint_chassis.kafka_access import AppCredential, client_properties
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import ORDERS_EVENTS
from tests.deploy.plugin_clients import publish

pytestmark = pytest.mark.integration
TOOL = Path(__file__).resolve().parents[2] / "deploy" / "kafka-tool"


def console_consumer(credential: AppCredential, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / f"{credential.username}.properties"
    config.write_text(client_properties(credential))
    config.chmod(0o600)
    return subprocess.run(
        [str(TOOL), "--client-config", str(config), "console-consumer", "--from-beginning",
         "--max-messages", "1", "--timeout-ms", "20000", *args],
        capture_output=True, text=True, timeout=120,
    )


async def test_the_console_consumer_reads_the_apps_topic_with_its_credential(new_app, kafka_bootstrap, tmp_path):
    # given an event on the app's topic
    app = await new_app()
    await publish(kafka_bootstrap, app.topic, b"order.created")
    # when Kafka's console consumer reads it with the app's client properties, in its group
    result = console_consumer(app, tmp_path, "--topic", app.topic, "--group", f"{app.group_prefix}.console")
    # then it prints the event
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["order.created"]


async def test_the_console_consumer_is_refused_an_internal_topic(new_app, kafka_bootstrap, tmp_path):
    # given an event on the internal orders topic
    app = await new_app()
    await ensure_topics(kafka_bootstrap, [ORDERS_EVENTS])
    await publish(kafka_bootstrap, ORDERS_EVENTS, b"secret")
    # when the console consumer asks for it with the app's credential
    result = console_consumer(app, tmp_path, "--topic", ORDERS_EVENTS)
    # then the broker refuses, and nothing of the topic is printed (the tool still exits 0)
    assert "Not authorized to access topics" in result.stderr and ORDERS_EVENTS in result.stderr
    assert "secret" not in result.stdout and "Processed a total of 0 messages" in result.stderr


async def test_the_console_consumer_is_refused_with_a_wrong_password(new_app, kafka_bootstrap, tmp_path):
    app = await new_app()
    await publish(kafka_bootstrap, app.topic, b"order.created")
    result = console_consumer(replace(app, password="wrong-password"), tmp_path, "--topic", app.topic)
    assert "Authentication failed" in result.stderr
    assert "order.created" not in result.stdout and "Processed a total of 0 messages" in result.stderr
