"""Kafka keys and headers as stored in PostgreSQL, in a form that cannot fail to store.

A consumed message may carry any bytes in its key and header values (a NUL, invalid UTF-8):
a dead letter or a parked message must keep them byte for byte all the same. Keys are
stored as ``bytea``; headers as a jsonb list of ``[base64(name), base64(value)]``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable

import orjson

Headers = list[tuple[str, bytes]]


def encode_headers(headers: Iterable[tuple[str, bytes | str]]) -> str:
    """The jsonb text of ``headers`` (values as bytes, or str encoded as UTF-8)."""
    return orjson.dumps([
        [_b64(name.encode("utf-8", "surrogatepass")), _b64(value if isinstance(value, bytes) else value.encode())]
        for name, value in headers
    ]).decode()


def decode_headers(stored: str | list) -> Headers:
    """``encode_headers`` reversed: the original names and value bytes."""
    pairs = json.loads(stored) if isinstance(stored, str) else stored
    return [(base64.b64decode(name).decode("utf-8", "surrogatepass"), base64.b64decode(value))
            for name, value in pairs]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
