"""The broker is a real Kafka that any client can use, not only Flint's Python code:
Kafka's own Java console producer and consumer talk to it, and to messages from aiokafka."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

pytestmark = pytest.mark.integration
TOOL = Path(__file__).resolve().parents[2] / "deploy" / "kafka-tool"


def kafka_tool(bootstrap: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([str(TOOL), *args, "--bootstrap-server", bootstrap], input=stdin,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_kafkas_own_console_clients_produce_and_consume_alongside_aiokafka(kafka_bootstrap, new_topics):
    # given a topic with one message from Kafka's Java console producer and one from aiokafka
    [topic] = await new_topics("outside-client", partitions=1)
    kafka_tool(kafka_bootstrap, "console-producer", "--topic", topic, stdin="from-java\n")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(topic, b"from-python")
    await producer.stop()
    # when Kafka's Java console consumer reads the topic
    out = kafka_tool(kafka_bootstrap, "console-consumer", "--topic", topic, "--from-beginning",
                     "--max-messages", "2", "--timeout-ms", "30000")
    # then it sees both, in order
    assert out.split() == ["from-java", "from-python"]
