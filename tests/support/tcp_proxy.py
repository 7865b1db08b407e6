"""An asyncio TCP proxy a test puts between a service and Kafka or PostgreSQL, to cut live
connections the way a network failure would (``tc netem`` and toxiproxy are not available).

    proxy = TcpProxy(target_port)
    await proxy.start()          # listens on proxy.port (127.0.0.1)
    proxy.cut()                  # resets every open connection, both ends, mid-stream
    await proxy.stop()

It runs in a thread of its own with its own event loop, so it keeps forwarding while the
test's loop is busy (or blocked), and a test can use it from sync code as well.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

from tests.support.ports import free_port


class TcpProxy:
    def __init__(self, target_port: int, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = port or free_port()
        self.cuts = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"tcp-proxy-{self.port}", daemon=True)
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def _call(self, coroutine):  # noqa: ANN001, ANN202 - run on the proxy's loop and wait
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_writer)
            return
        pair = {client_writer, upstream_writer}
        self._writers |= pair
        try:
            await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
        finally:
            self._writers -= pair
            for writer in pair:
                _reset(writer)

    def cut(self) -> int:
        """Reset every open connection (RST, not FIN: as a dropped link looks); returns how many."""
        def reset_all() -> int:
            writers = list(self._writers)
            for writer in writers:
                _reset(writer)
            return len(writers) // 2

        cut = asyncio.run_coroutine_threadsafe(_as_coroutine(reset_all), self._loop).result(timeout=30)
        self.cuts += cut
        return cut

    async def stop(self) -> None:
        if self._server is not None:
            async def close() -> None:
                self._server.close()
                for writer in list(self._writers):
                    _reset(writer)

            self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


async def _as_coroutine(function):  # noqa: ANN001, ANN202
    return function()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        _reset(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the peer gets a reset, as when a link drops mid-stream."""
    sock = writer.get_extra_info("socket")
    if sock is not None and not writer.is_closing():
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()
