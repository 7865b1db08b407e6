"""A small HTTP/1.1 load generator: N keep-alive connections to 127.0.0.1, each sending one
GET after the other for a fixed time; prints one JSON line with the count and latencies.

    python -m bench.loadgen --port 8102 --path /v1/orders/ord_... --token ... --clients 64 --seconds 10

It only ever connects to 127.0.0.1 and always stops after ``--warmup + --seconds``. It runs in
its own process on uvloop and parses as little as it can, so it takes as little CPU as possible
from the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import uvloop

HOST = "127.0.0.1"  # never anything else


class Connection(asyncio.Protocol):
    def __init__(self, requests: list[bytes], stats: Stats) -> None:
        self.requests, self.stats = requests, stats
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.expected: int | None = None
        self.started = 0
        self.sent = 0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        if self.stats.stopped:
            self.transport.close()
            return
        self.started = time.perf_counter_ns()
        self.transport.write(self.requests[self.sent % len(self.requests)])
        self.sent += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15:head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None])
            self.status = int(head[9:12])
            self.expected = end + 4 + length
        if len(self.buffer) >= self.expected:
            self.stats.record(self.status, time.perf_counter_ns() - self.started)
            del self.buffer[:self.expected]
            self.expected = None
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class Stats:
    def __init__(self) -> None:
        self.recording = False
        self.stopped = False
        self.latencies: list[int] = []
        self.errors = 0

    def record(self, status: int, latency_ns: int) -> None:
        if not self.recording:
            return
        if status == 200:
            self.latencies.append(latency_ns)

        else:
            self.errors += 1


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] / 1e6


async def run(port: int, paths: list[str], token: str, clients: int, seconds: float, warmup: float) -> dict:
    requests = [(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
                 f"Accept: application/json\r\n\r\n").encode() for path in paths]
    stats = Stats()
    loop = asyncio.get_running_loop()
    connections = []
    for index in range(clients):
        rotated = requests[index:] + requests[:index]  # clients ask for different orders at the same time
        _, protocol = await loop.create_connection(lambda r=rotated: Connection(r, stats), HOST, port)
        connections.append(protocol)
    await asyncio.sleep(warmup)
    stats.recording = True
    began = time.perf_counter()
    await asyncio.sleep(seconds)
    stats.recording = False
    elapsed = time.perf_counter() - began
    stats.stopped = True
    await asyncio.wait([c.closed for c in connections], timeout=5)
    latencies = sorted(stats.latencies)
    return {"requests": len(latencies), "errors": stats.errors, "seconds": elapsed,
            "rps": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99), "max_ms": latencies[-1] / 1e6 if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", action="append", required=True, help="repeat to spread requests over paths")
    parser.add_argument("--token", required=True)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    if not 0 < args.seconds <= 600:
        parser.error("--seconds must be between 0 and 600")
    result = uvloop.run(run(args.port, args.path, args.token, args.clients, args.seconds, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
