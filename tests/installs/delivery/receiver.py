"""A real HTTP/1.1 webhook receiver on a local port, misbehaving on request.

Raw asyncio streams with h11 parsing, so a test can do what a framework would not let it:
hang, close the connection without an answer, or stream an answer without end. The path
picks the behaviour; every request that arrives is recorded with its exact body.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import h11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flint_sdk import SIGNATURE_HEADER, InvalidSignature, verify

# The ports this helper may listen on (the worktree's HTTP range by default).
PORT_RANGE = os.environ.get("FLINT_TEST_HTTP_PORTS", "18700-18799")
HUGE_BODY_BYTES = 50 * 1024 * 1024


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)  # requests answered 2xx, in answer order
    down: bool = False  # /flaky answers 503 while set
    connections: int = 0
    huge_bytes_written: int = 0
    server_names: list[str] = field(default_factory=list)  # TLS SNI seen
    secrets: dict[str, list[str]] = field(default_factory=dict)  # /verified/… path -> the secrets it accepts
    refused: list[Received] = field(default_factory=list)  # /verified/… requests whose signature did not verify
    server: asyncio.Server | None = None
    open_writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def url(self, path: str, *, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.open_writers):  # hanging handlers end with their connections
            writer.transport.abort()
        await self.server.wait_closed()


async def start_receiver(ssl_context: ssl.SSLContext | None = None) -> Receiver:
    receiver = Receiver(port=0)
    if ssl_context is not None:
        ssl_context.sni_callback = lambda _sock, name, _ctx: receiver.server_names.append(name or "")

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        receiver.connections += 1
        receiver.open_writers.add(writer)
        try:
            await _serve(receiver, reader, writer)
        except (ConnectionError, ssl.SSLError, h11.ProtocolError):
            pass
        finally:
            receiver.open_writers.discard(writer)
            writer.close()

    first, last = (int(p) for p in PORT_RANGE.split("-"))
    for port in range(first, last + 1):
        try:
            receiver.server = await asyncio.start_server(on_connection, "127.0.0.1", port, ssl=ssl_context)
        except OSError:
            continue
        receiver.port = port
        return receiver
    raise RuntimeError(f"no free port in {PORT_RANGE} for the test receiver")


async def _serve(receiver: Receiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = h11.Connection(h11.SERVER)
    request, body = None, bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and conn.their_state is not h11.DONE:
                return
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            return
    headers = {name.decode().lower(): value.decode() for name, value in request.headers}
    path = request.target.decode()
    received = Received(request.method.decode(), path, headers, bytes(body))
    receiver.requests.append(received)
    route = path.split("?")[0]
    behaviour = _verified if route.startswith("/verified/") else BEHAVIOURS.get(route, _not_found)
    await behaviour(receiver, received, conn, writer)


async def _respond(conn: h11.Connection, writer: asyncio.StreamWriter, status: int, body: bytes,
                   headers: list[tuple[str, str]] | None = None) -> None:
    head = [("content-length", str(len(body))), ("connection", "close"), *(headers or [])]
    writer.write(conn.send(h11.Response(status_code=status, headers=head)))
    writer.write(conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
    await writer.drain()


async def _ok(receiver: Receiver, request: Received, conn: h11.Connection,
              writer: asyncio.StreamWriter) -> None:
    receiver.accepted.append(request)
    await _respond(conn, writer, 200, b'{"received": true}', [("content-type", "application/json")])


async def _flaky(receiver: Receiver, request: Received, conn: h11.Connection,
                 writer: asyncio.StreamWriter) -> None:
    if receiver.down:
        await _respond(conn, writer, 503, b"down for maintenance")
    else:
        await _ok(receiver, request, conn, writer)


async def _error(receiver: Receiver, request: Received, conn: h11.Connection,
                 writer: asyncio.StreamWriter) -> None:
    await _respond(conn, writer, 500, b"database is down, try later")


async def _gone(receiver: Receiver, request: Received, conn: h11.Connection,
                writer: asyncio.StreamWriter) -> None:
    await _respond(conn, writer, 410, b"no such hook")


async def _garbled(receiver: Receiver, request: Received, conn: h11.Connection,
                   writer: asyncio.StreamWriter) -> None:
    # NUL, a bell, invalid UTF-8, and a two-byte character the snippet limit may cut.
    await _respond(conn, writer, 500, b"bad\x00\x07\xff\xfe" + "Zürich".encode() * 1000)


async def _hang(receiver: Receiver, request: Received, conn: h11.Connection,
                writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()  # never answers; ends when the sender or the server closes


async def _close(receiver: Receiver, request: Received, conn: h11.Connection,
                 writer: asyncio.StreamWriter) -> None:
    writer.close()  # the request was read; no answer at all


async def _redirect(receiver: Receiver, request: Received, conn: h11.Connection,
                    writer: asyncio.StreamWriter) -> None:
    await _respond(conn, writer, 302, b"", [("location", receiver.url("/ok"))])


async def _huge(receiver: Receiver, request: Received, conn: h11.Connection,
                writer: asyncio.StreamWriter) -> None:
    """200 announcing 50 MiB, written until the sender stops reading and closes."""
    head = [("content-length", str(HUGE_BODY_BYTES)), ("connection", "close")]
    writer.write(conn.send(h11.Response(status_code=200, headers=head)))
    chunk = b"x" * 65536
    while receiver.huge_bytes_written < HUGE_BODY_BYTES:
        writer.write(chunk)
        await writer.drain()
        receiver.huge_bytes_written += len(chunk)


async def _slow_body(receiver: Receiver, request: Received, conn: h11.Connection,
                     writer: asyncio.StreamWriter) -> None:
    """The status and a first piece of body at once, the rest never."""
    writer.write(conn.send(h11.Response(status_code=200, headers=[("content-length", "1000")])))
    writer.write(b"accepted, still typing")
    await writer.drain()
    await asyncio.Event().wait()


async def _verified(receiver: Receiver, request: Received, conn: h11.Connection,
                    writer: asyncio.StreamWriter) -> None:
    """A plugin's receiver: 503 while down; else it verifies the signature with the SDK, as a
    plugin must, and answers 400 to a delivery that does not verify, 200 to one that does."""
    if receiver.down:
        await _respond(conn, writer, 503, b"down for maintenance")
        return
    try:
        verify(request.body, request.headers.get(SIGNATURE_HEADER.lower(), ""), receiver.secrets[request.path])
    except (InvalidSignature, KeyError, ValueError) as error:
        receiver.refused.append(request)
        await _respond(conn, writer, 400, f"refused: {error}".encode())
        return
    await _ok(receiver, request, conn, writer)


async def _not_found(receiver: Receiver, request: Received, conn: h11.Connection,
                     writer: asyncio.StreamWriter) -> None:
    await _respond(conn, writer, 404, b"unknown test path")


Behaviour = Callable[[Receiver, Received, h11.Connection, asyncio.StreamWriter], Awaitable[None]]
BEHAVIOURS: dict[str, Behaviour] = {
    "/ok": _ok, "/error": _error, "/gone": _gone, "/garbled": _garbled, "/hang": _hang, "/close": _close,
    "/redirect": _redirect, "/huge": _huge, "/slow-body": _slow_body, "/flaky": _flaky,
}


@dataclass(frozen=True)
class TestCertificate:
    """A self-signed certificate for one host name: the server's context and a client one trusting it."""

    __test__ = False
    server: ssl.SSLContext
    client: ssl.SSLContext


def certificate_for(hostname: str) -> TestCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:  # ssl loads a chain only from files
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return TestCertificate(server=server, client=client)

