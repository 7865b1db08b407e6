"""A local SMTP server for development: every message it receives becomes an ``.eml`` file.

    python -m flint_invoicing.mailsink --dir .flint/mail --port 8025

``make up`` runs it, so a person can open what Flint sent (any mail program opens ``.eml``
files, and they are plain text). Nothing is ever delivered anywhere. Files are named by the
time they arrived and written whole before they appear (write, then rename), so a reader
never sees half a message. The envelope's recipients are added as ``X-Flint-Rcpt-To``
headers, since a Bcc recipient is not in the message itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

_counter = itertools.count(1)


class EmlFolder:
    """The aiosmtpd handler: each message becomes ``<dir>/<time>-<pid>-<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        path = self.save(envelope)
        print(f"mail sink: {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}: {path.name}", flush=True)
        return "250 Message accepted (kept, not delivered)"

    def save(self, envelope: Envelope) -> Path:
        content = envelope.original_content or b""
        header = "".join(f"X-Flint-Rcpt-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos).encode()
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_counter):05d}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(header + content)
        return partial.replace(self.folder / name)


async def serve(folder: Path, host: str, port: int) -> asyncio.Server:
    """Starts the sink; stop it with ``server.close()``."""
    handler = EmlFolder(folder)
    loop = asyncio.get_running_loop()
    # A fixed hostname: the default looks up this machine's FQDN, which can hang without DNS.
    return await loop.create_server(
        lambda: SMTP(handler, hostname="flint-mailsink", enable_SMTPUTF8=True), host=host, port=port
    )


async def _run(folder: Path, host: str, port: int) -> None:
    server = await serve(folder, host, port)
    print(f"mail sink: smtp://{host}:{port} -> {folder.resolve()}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flint_invoicing.mailsink", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".flint/mail"), help="where the .eml files go")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on (default 8025)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args.dir, args.host, args.port))
    except OSError as error:
        print(f"mail sink: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
