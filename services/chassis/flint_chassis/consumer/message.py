"""One consumed Kafka message as the consumer keeps it: where it came from and its exact bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord

from flint_chassis.wire import Headers, decode_headers

REPLAY_HEADER = "flint-replay-of"


@dataclass(frozen=True)
class Message:
    """A record's coordinates, key, value and headers, byte for byte (from Kafka or from a
    parked row). Nothing here has been validated."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers

    @classmethod
    def from_record(cls, record: ConsumerRecord) -> Message:
        return cls(record.topic, record.partition, record.offset, record.key, record.value or b"",
                   [(name, bytes(value or b"")) for name, value in record.headers or ()])

    @classmethod
    def from_parked(cls, row: Any) -> Message:
        key = bytes(row["key"]) if row["key"] is not None else None
        return cls(row["topic"], row["partition"], row["offset"], key, bytes(row["value"]),
                   decode_headers(row["headers"]))

    @property
    def position(self) -> str:
        """``topic:partition:offset``: names the message whatever its bytes are."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def is_replay(self) -> bool:
        """An operator replayed it from a dead-letter topic (``python -m flint_chassis.dead_letters``)."""
        return any(name == REPLAY_HEADER for name, _ in self.headers)

    def aggregate(self, subject: str | None) -> bytes:
        """What the message's order is kept per: its Kafka key, else the envelope's subject,
        else its own position (then it waits behind nothing)."""
        if self.key is not None:
            return b"k:" + self.key
        if subject is not None:
            return b"s:" + subject.encode()
        return b"p:" + self.position.encode()
