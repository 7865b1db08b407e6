"""A service running whole (its lifespan, then uvicorn with httptools) in a thread with its
own event loop, for synchronous test tools such as schemathesis that send real HTTP
requests while the test itself blocks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import uvicorn

from tests.support.http_server import free_port


class ThreadedServer:
    def __init__(self, app: Any, ports: range | None = None) -> None:
        """``ports``: the range of the workstream whose test starts it (default the http one's)."""
        self.app = app
        self.port = free_port() if ports is None else free_port(ports)
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name=f"server-{self.port}", daemon=True)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        if not self._ready.wait(120):
            raise TimeoutError(f"the server on {self.url} did not start in 120 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(60)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Runs ``coroutine`` on the server's loop (e.g. a query on the app's pool)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(60)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test by __enter__
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        async with self.app.router.lifespan_context(self.app):
            config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, lifespan="off", http="httptools",
                                    log_config=None, access_log=False)
            self._server = uvicorn.Server(config)
            serving = asyncio.create_task(self._server.serve())
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.01)
            self._ready.set()
            await serving
