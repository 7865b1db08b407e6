"""A real HTTP server around an app already started in the test's event loop (uvicorn with
httptools, as in production), and a client that keeps to one keep-alive connection, so a
test sees what a plugin's SDK sees: the status, and whether the connection survived."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

# Ports of the http workstream's dedicated test servers.
PORTS = range(18200, 18300)


def free_port(ports: range = PORTS) -> int:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@contextlib.asynccontextmanager
async def serving(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """``app`` (already started: its lifespan is the caller's) behind uvicorn; yields its URL.
    ``port``: a port of the caller's own range (default: one of ``PORTS``)."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", http="httptools", log_config=None,
                            access_log=False)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # older uvicorn; newer ones capture signals themselves
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class OneConnection:
    """An httpx client limited to one connection, remembering which local port answered."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=30,
                                        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self.local_ports: list[int] = []

    async def __aenter__(self) -> OneConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = await self.client.request(method, path, **kw)
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self.local_ports.append(sock.getsockname()[1] if sock is not None else -1)
        return response

    def still_one_connection(self) -> bool:
        """Every answer so far came over the same TCP connection (none was reset)."""
        return len(set(self.local_ports)) == 1 and -1 not in self.local_ports
