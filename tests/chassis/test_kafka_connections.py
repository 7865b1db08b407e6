"""uvloop's RuntimeError on a closed transport is a KafkaConnectionError to aiokafka (see
flint_chassis.kafka_connections): the consumer's fetcher retries instead of dying."""

from __future__ import annotations

import pytest
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaConnectionError

from flint_chassis import kafka_connections


class ClosedWriter:
    def write(self, data: bytes) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True reading=False>; "
                           "the handler is closed")


class Request:
    def prepare(self, versions):  # noqa: ANN001, ANN201
        return self

    def build_request_header(self, correlation_id: int, client_id: str):  # noqa: ANN201
        return self

    def encode(self) -> bytes:
        return b"x"


def connection() -> AIOKafkaConnection:
    conn = AIOKafkaConnection.__new__(AIOKafkaConnection)  # no socket: only send() is exercised
    conn._host, conn._port, conn._writer, conn._versions, conn._client_id = "127.0.0.1", 9, ClosedWriter(), {}, "t"
    conn._correlation_id = 0
    conn.closed = []
    conn.close = lambda reason=None, exc=None: conn.closed.append(reason)
    return conn


def test_a_closed_transport_under_uvloop_is_a_connection_error():
    kafka_connections.install()
    kafka_connections.install()  # twice: still one wrapper
    conn = connection()
    with pytest.raises(KafkaConnectionError, match="broken"):
        conn.send(Request())
    assert conn.closed, "the broken connection is closed, so the client opens a new one"


def test_other_runtime_errors_are_left_alone():
    kafka_connections.install()
    conn = connection()
    conn._writer = type("W", (), {"write": lambda self, data: (_ for _ in ()).throw(RuntimeError("other"))})()
    with pytest.raises(RuntimeError, match="other"):
        conn.send(Request())
