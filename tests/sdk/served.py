"""The installs and orders services as a plugin meets them: real HTTP servers (uvicorn) on
local ports, with their real lifespans against the real PostgreSQL and Kafka.

They run in a thread with an event loop of their own, so blocking clients (the SDK's
``FlintClient``) and async ones can both call them from the tests. Orders verifies tokens
with the installs service's JWKS over HTTP, as in production. Both databases are fresh and
dropped afterwards; orders' consumer groups start at the current end of their topics.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvicorn

from flint_chassis.topics import ensure_topics
from flint_contracts.topics import ORDERS_EVENTS
from flint_installs.app import create_app as create_installs_app
from flint_orders.app import create_app as create_orders_app
from flint_orders.app import create_runtime
from flint_orders.config import OrdersSettings
from tests.installs.support import ADMIN_KEY, settings_for
from tests.orders.service import start_groups_at_end

# The sdk workstream's ports for servers its tests start.
PORTS = range(18800, 18900)


def bound_socket(ports: range = PORTS) -> socket.socket:
    """A listening socket on the first free port of ``ports`` (held, so no one takes it)."""
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class FlintServices:
    installs_url: str
    orders_url: str
    admin_key: str = ADMIN_KEY


class ServedFlint:
    """Installs and orders on real sockets in a background thread; a context manager."""

    def __init__(self, server_url: str, kafka_bootstrap: str, ports: range = PORTS) -> None:
        self._server_url, self._kafka = server_url, kafka_bootstrap
        self._sockets = [bound_socket(ports), bound_socket(ports)]
        self.services = FlintServices(url_of(self._sockets[0]), url_of(self._sockets[1]))
        run = secrets.token_hex(5)
        self._databases = [f"test_sdk_installs_{run}", f"test_sdk_orders_{run}"]
        self._servers: list[uvicorn.Server] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="flint-services", daemon=True)

    def __enter__(self) -> FlintServices:
        self._thread.start()
        if not self._ready.wait(180):
            raise TimeoutError("the installs and orders services did not start in 180 s")
        if self._error is not None:
            raise self._error
        return self.services

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(60)
        asyncio.run(self._drop_databases())

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test by __enter__
            self._error = error
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        installs, orders = self._installs_app(), await self._orders_app()
        tasks = [await self._start(installs, self._sockets[0])]
        tasks.append(await self._start(orders, self._sockets[1]))  # after installs: it fetches installs' keys
        self._ready.set()
        await asyncio.gather(*tasks)

    async def _start(self, app: Any, sock: socket.socket) -> asyncio.Task[None]:
        config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=5)
        server = uvicorn.Server(config)
        self._servers.append(server)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.02)
        return task

    def _installs_app(self) -> Any:
        database_url = f"{self._server_url.rsplit('/', 1)[0]}/{self._databases[0]}"
        settings = settings_for(self._server_url, database_url, self._kafka, installs_url=self.services.installs_url,
                                orders_url=self.services.orders_url)
        return create_installs_app(settings)

    async def _orders_app(self) -> Any:
        database = self._databases[1]
        settings = OrdersSettings(
            database_url=self._server_url, database_name=database, kafka_bootstrap_servers=self._kafka,
            installs_url=self.services.installs_url, consumer_group_prefix=f"{database}.", outbox_poll_interval=0.2,
            consumer_retry_backoff=0.05, consumer_park_delays=[0.2, 0.4, 0.8], consumer_redrive_interval=0.05,
            secret=secrets.token_urlsafe(40),
        )
        groups = create_runtime(settings).consumer_groups()
        consumed = sorted({topic for topics in groups.values() for topic in topics})
        await ensure_topics(self._kafka, [*consumed, ORDERS_EVENTS], partitions=settings.topic_partitions)
        await start_groups_at_end(self._kafka, groups)
        return create_orders_app(settings)

    async def _drop_databases(self) -> None:
        admin = await asyncpg.connect(self._server_url)
        try:
            for name in self._databases:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
