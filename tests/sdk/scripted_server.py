"""A small local HTTP server that answers from a script, for what the real services cannot be
made to do on demand: answer 429 with Retry-After, or drop a connection mid-request.

It also answers Flint's discovery document (every service at its own address) and the
token endpoint, so an SDK client runs against it unchanged. It records every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.sdk.served import bound_socket, url_of

DROP = "drop"  # read the request, then close the connection without answering


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived


class ScriptedServer:
    """``script(method, path, *answers)``: the next requests to that route get those answers in turn;
    once they run out, the last one repeats."""

    def __init__(self) -> None:
        self._sock = bound_socket()
        self.url = url_of(self._sock)
        self._answers: dict[tuple[str, str], deque[Answer | str]] = defaultdict(deque)
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(), bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = self._sock
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="scripted-server",
                                        daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, method: str, path: str, *answers: Answer | str) -> None:
        with self._lock:
            self._answers[(method, path)].extend(answers)

    def seen(self, method: str, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def _next(self, method: str, path: str) -> Answer | str:
        if path == "/.well-known/flint-configuration":
            services = {name: self.url for name in ("orders", "refunds", "invoicing")}
            return Answer(200, {"issuer": self.url, "authorization_endpoint": f"{self.url}/oauth/authorize",
                                "token_endpoint": f"{self.url}/oauth/token", "services": services})
        if path == "/oauth/token":
            return Answer(200, {"access_token": "token-1", "token_type": "Bearer", "expires_in": 900})
        with self._lock:
            queue = self._answers[(method, path)]
            if not queue:
                return Answer(404, {"type": "about:blank", "title": "Not scripted", "status": 404})
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(Seen(self.command, path, dict(self.headers), body, time.monotonic()))
                answer = server._next(self.command, path)
                if answer == DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                assert isinstance(answer, Answer)
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                content_type = "application/problem+json" if answer.status >= 400 else "application/json"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def problem(status: int, code: str, **fields: Any) -> dict[str, Any]:
    return {"type": f"https://flint.dev/problems/{code}", "title": code.replace("_", " ").capitalize(),
            "status": status, "code": code, **fields}
