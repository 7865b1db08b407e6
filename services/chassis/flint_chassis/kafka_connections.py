"""A broken Kafka connection is a connection error, under uvloop too.

aiokafka 0.14 turns an ``OSError`` from writing to a broker connection into
``KafkaConnectionError`` (which its fetcher, coordinator and sender retry), but uvloop raises
``RuntimeError("unable to perform operation on <TCPTransport closed=True ...>; the handler is
closed")`` instead when the peer reset the connection. That RuntimeError escaped the
consumer's fetcher routine, which died: the consumer then fetched nothing more, for good, with
no error surfacing to its caller (found by tests/faults/test_connections_cut.py; upstream:
https://github.com/aio-libs/aiokafka/issues/1038, open). ``install()`` wraps
``AIOKafkaConnection.send`` so that error is handled as aiokafka handles an ``OSError``: the
connection is closed and ``KafkaConnectionError`` raised. It is idempotent; the runtime calls
it before any Kafka client starts. Remove it once aiokafka catches the error itself.
"""

from __future__ import annotations

from typing import Any

from aiokafka import errors
from aiokafka.conn import AIOKafkaConnection, CloseReason

_CLOSED_TRANSPORT = "handler is closed"


def install() -> None:
    """Wrap ``AIOKafkaConnection.send`` once (see the module's doc)."""
    if getattr(AIOKafkaConnection.send, "_flint_closed_transport", False):
        return
    original = AIOKafkaConnection.send

    def send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        try:
            return original(self, request, expect_response)
        except RuntimeError as error:
            if _CLOSED_TRANSPORT not in str(error):
                raise
            self.close(reason=CloseReason.CONNECTION_BROKEN)
            raise errors.KafkaConnectionError(f"Connection at {self.host}:{self.port} broken: {error}") from error

    send._flint_closed_transport = True  # type: ignore[attr-defined]
    AIOKafkaConnection.send = send  # type: ignore[method-assign]
