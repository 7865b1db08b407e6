"""Free ports for servers a test starts, from a range of its own (``FLINT_TEST_FAULT_PORTS``,
default 20400-20479; PostgreSQL clusters of the fault suite take
20480-20499, FLINT_TEST_FAULT_PG_PORTS), so they never collide with the shared stack or another suite's."""

from __future__ import annotations

import os
import socket

_handed_out: set[int] = set()


def free_port(env: str = "FLINT_TEST_FAULT_PORTS", default: str = "20400-20479") -> int:
    """A port of the range nobody listens on and this process has not handed out yet."""
    low, high = (int(p) for p in os.environ.get(env, default).split("-"))
    for port in range(low, high + 1):
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high} ({env})")
