"""A Kafka broker of a test's own (KRaft, single node, the jars `make setup` resolved), for
tests that must pause or cut the broker: never the shared stack's. Data in a temporary
folder, ports from tests.support.ports.

``advertised_port`` makes the broker tell clients to connect to another port (a TCP proxy in
front of it, tests/support/tcp_proxy.py), so every connection a client makes goes through it.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = ROOT / "deploy" / "kafka"


def _cluster_id() -> str:
    """A random KRaft cluster id. One starting with '-' (1 in 64 base64url ids) is read by the
    storage tool as an option and the format fails; Kafka's own ids never start with one."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id


def _classpath() -> str:
    jars = sorted((KAFKA_DIR / "target" / "libs").glob("*.jar"))
    if not any(j.name.startswith("kafka_2.13-") for j in jars):
        raise RuntimeError("Kafka jars are missing under deploy/kafka/target/libs: run `make setup`")
    return ":".join(str(j) for j in jars)


def api_ready(port: int) -> bool:
    """The broker answers an ApiVersions request on ``port`` (not merely accepts TCP)."""
    body = (18).to_bytes(2, "big") + (0).to_bytes(2, "big") + (1).to_bytes(4, "big") + (4).to_bytes(2, "big") + b"test"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(len(body).to_bytes(4, "big") + body)
            size = int.from_bytes(sock.recv(4), "big")
            reply = b""
            while len(reply) < size:
                chunk = sock.recv(size - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply[4:6] == b"\x00\x00"
    except OSError:
        return False


class KafkaBroker:
    def __init__(self, *, advertised_port: int | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="flint-kafka-"))
        self.port, self.controller_port, self.plugin_port = free_port(), free_port(), free_port()
        self.advertised_port = advertised_port or self.port
        self.process: subprocess.Popen | None = None
        properties = (KAFKA_DIR / "server.properties.in").read_text()
        properties = properties.replace("advertised.listeners=PLAINTEXT://127.0.0.1:@PORT@",
                                        f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.advertised_port}")
        for name, value in (("@PORT@", self.port), ("@CONTROLLER_PORT@", self.controller_port),
                            ("@PLUGIN_PORT@", self.plugin_port), ("@PLUGIN_REAUTH_MS@", 300000),
                            ("@DATA_DIR@", self.base / "data")):
            properties = properties.replace(name, str(value))
        self.properties = self.base / "server.properties"
        self.properties.write_text(properties)
        cluster_id = _cluster_id()
        subprocess.run(["java", *self._java_opts(), "-cp", _classpath(), "kafka.tools.StorageTool", "format",
                        "--standalone", "-t", cluster_id, "-c", str(self.properties)],
                       check=True, capture_output=True, timeout=120)

    @property
    def bootstrap(self) -> str:
        """Where clients connect (the proxy when there is one)."""
        return f"127.0.0.1:{self.advertised_port}"

    def _java_opts(self) -> list[str]:
        return ["-Xms128m", "-Xmx384m", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}", f"-Dkafka.logs.dir={self.base / 'logs'}"]

    def start(self, timeout: float = 120) -> None:
        with open(self.base / "stdout.log", "ab") as out:
            self.process = subprocess.Popen(["java", *self._java_opts(), "-cp", _classpath(), "kafka.Kafka",
                                             str(self.properties)], stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not api_ready(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test's Kafka did not start; see {self.base / 'logs' / 'server.log'}")
            time.sleep(0.2)

    def pause(self) -> None:
        """SIGSTOP: the broker holds every connection open and answers nothing."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGKILL)  # its data goes with it: no clean shutdown needed
            self.process.wait(timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)
