"""A one-shot HTTP server on the app's loopback redirect URI: it waits for the merchant's
browser to come back from Flint's consent page and hands over the URL it came back to.

Requests for other paths (a browser's ``/favicon.ico``) get a 404 and it keeps waiting. It
binds before the authorize URL is printed, so the redirect can never arrive too early, and
only on the address the redirect URI names (127.0.0.1: nothing outside the machine reaches it).
"""

from __future__ import annotations

import html
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from flint_cli.failures import CliError

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Flint CLI</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>"""


class CallbackServer:
    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise CliError(f"the app's redirect URI {redirect_uri} is not a local http://127.0.0.1:PORT/… address "
                           "the CLI can listen on; create the app with `flint apps create`")
        self.redirect_uri, self.path = redirect_uri, parts.path or "/"
        self.received: str | None = None
        try:
            self._server = HTTPServer((parts.hostname, parts.port), self._handler())
        except OSError as error:
            raise CliError(f"cannot listen on {parts.hostname}:{parts.port} for the redirect ({error.strerror}); "
                           "stop what uses that port, or make the app again with `flint apps create --replace "
                           "--port N`") from None
        self._server.timeout = 0.2

    def wait(self, timeout: float) -> str:
        """The URL the browser came back to; a :class:`CliError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.received is None:
            if time.monotonic() > deadline:
                raise CliError(f"no answer from the browser within {timeout:.0f}s; run `flint install` again")
            self._server.handle_request()
        return self.received

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> CallbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                if urlsplit(self.path).path != server.path or server.received is not None:
                    self._answer(HTTPStatus.NOT_FOUND, "Not found", "This is the Flint CLI's install callback.")
                    return
                server.received = server.redirect_uri.split("?", 1)[0] + self.path.removeprefix(server.path)
                error = parse_qs(urlsplit(self.path).query).get("error")
                if error:
                    self._answer(HTTPStatus.OK, "Not installed", f"Flint answered {error[0]}. You can close this "
                                 "window; the terminal says what happened.")
                else:
                    self._answer(HTTPStatus.OK, "Back to your terminal", "The Flint CLI got the answer and is "
                                 "finishing the install. You can close this window.")

            def _answer(self, status: HTTPStatus, title: str, text: str) -> None:
                body = PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep the terminal clean
                return

        return Handler
