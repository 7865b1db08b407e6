"""A broker started before the plugin listener existed (its data formatted then) keeps
working: `deploy/stack.py up` restarts it with the new configuration and its data stays.

This test runs a Kafka of its own, on free ports under a temporary state directory, and
stops it afterwards; it never touches the test stack the other tests share."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# deploy/kafka/server.properties.in as it was before the plugin listener and the authorizer.
BEFORE = Path(__file__).parent / "fixtures" / "server.properties.before-plugins.in"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def old_checkout(tmp_path: Path) -> Path:
    """The launcher with the old broker template, using this checkout's Kafka jars."""
    old = tmp_path / "old"
    (old / "deploy" / "kafka").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "stack.py", old / "deploy" / "stack.py")
    for name in ("log4j2.properties", "log4j2-tools.properties"):
        shutil.copy(ROOT / "deploy" / "kafka" / name, old / "deploy" / "kafka" / name)
    shutil.copy(BEFORE, old / "deploy" / "kafka" / "server.properties.in")
    (old / "deploy" / "kafka" / "target").symlink_to(ROOT / "deploy" / "kafka" / "target")
    return old


def stack(checkout: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(checkout / "deploy" / "stack.py"), *args], capture_output=True,
                          text=True, timeout=240, env={**os.environ, **env})


async def test_a_broker_formatted_before_the_plugin_listener_restarts_with_it_and_keeps_its_data(
        tmp_path, server_url):
    port, controller, plugin = free_ports(3)
    env = {"FLINT_STATE_DIR": str(tmp_path / "state"), "FLINT_KAFKA_PORT": str(port),
           "FLINT_KAFKA_CONTROLLER_PORT": str(controller), "FLINT_KAFKA_PLUGIN_PORT": str(plugin),
           "DATABASE_URL": server_url}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
        env[name] = ""  # a local broker of this test's own, whatever the environment says
    # This test is about Kafka: no mail sink (the old copy has no .venv); a socket that accepts
    # stands in for the mail server `status` checks.
    mail = socket.create_server(("127.0.0.1", 0))
    env["FLINT_SMTP_HOST"], env["FLINT_SMTP_PORT"] = "127.0.0.1", str(mail.getsockname()[1])
    old = old_checkout(tmp_path)
    try:
        # given a broker formatted and run with the old configuration, holding a message
        # (the old template has no plugin listener: point the launcher's readiness check for it
        # at the broker's own port)
        started = stack(old, {**env, "FLINT_KAFKA_PLUGIN_PORT": str(port)}, "up", "--infra-only", "--json")
        assert started.returncode == 0, started.stderr
        bootstrap = f"127.0.0.1:{port}"
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        await producer.send_and_wait("upgrade.check", b"from before")
        await producer.stop()
        # when the current launcher brings the stack up
        upgraded = stack(ROOT, env, "up", "--infra-only", "--json")
        # then it restarted the broker with the plugin listener, which answers...
        assert upgraded.returncode == 0, upgraded.stderr
        assert "restarting Kafka" in upgraded.stderr
        assert json.loads(upgraded.stdout.strip().splitlines()[-1])["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] == f"127.0.0.1:{plugin}"
        status = stack(ROOT, env, "status")
        assert status.returncode == 0, status.stdout
        plugins = next(line.split() for line in status.stdout.splitlines() if line.startswith("kafka-plugins"))
        assert plugins[1:3] == ["healthy", f"127.0.0.1:{plugin}"], status.stdout
        # ...and the data written before is still there
        consumer = AIOKafkaConsumer("upgrade.check", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=15000)
        finally:
            await consumer.stop()
        assert [m.value for messages in batch.values() for m in messages] == [b"from before"]
    finally:
        stack(ROOT, env, "down")
        mail.close()
