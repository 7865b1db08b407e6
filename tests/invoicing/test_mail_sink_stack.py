"""`make up` starts the mail sink, `make status` says where mail lands, `make down` stops it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from flint_invoicing.smtp import SmtpMailer
from tests.invoicing.test_mail import free_port
from tests.support.polling import eventually

pytestmark = pytest.mark.integration
STACK = Path(__file__).resolve().parents[2] / "deploy" / "stack.py"


def stack_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, timeout=120, env=env)


async def test_the_launcher_runs_a_mail_sink_that_keeps_what_is_sent(stack, tmp_path: Path):
    # given a launcher state of its own, using the test servers (so it starts no Kafka or PostgreSQL)
    port = free_port()
    env = {**os.environ, **stack, "FLINT_STATE_DIR": str(tmp_path / "state"), "FLINT_SMTP_PORT": str(port)}
    env.pop("FLINT_SMTP_HOST", None)
    try:
        # when it starts the infrastructure
        started = stack_command("up", "--infra-only", "--json", env=env)
        assert started.returncode == 0, started.stderr
        written = json.loads(started.stdout.strip().splitlines()[-1])
        # then the environment names the sink, and status says where mail lands
        assert written["FLINT_SMTP_HOST"] == "127.0.0.1" and written["FLINT_SMTP_PORT"] == str(port)
        mail_dir = Path(written["FLINT_MAIL_DIR"])
        assert mail_dir == tmp_path / "state" / "mail"
        status = stack_command("status", env=env)
        [row] = [line for line in status.stdout.splitlines() if line.startswith("mail ")]
        assert "running" in row and f"smtp://127.0.0.1:{port}" in row and str(mail_dir) in row
        # and a message sent to it lands there as an .eml file
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "invoices@flint.test", "ada@example.com", "Hello, sink"
        message["Date"] = format_datetime(datetime.now(UTC))
        message.set_content("It arrived.")
        await SmtpMailer("127.0.0.1", port, timeout=5).send(message)
        [eml] = await eventually(lambda: list(mail_dir.glob("*.eml")), message="the .eml file")
        assert b"Subject: Hello, sink" in eml.read_bytes()
    finally:
        stopped = stack_command("down", env=env)
    # when it stops, the sink is gone and nothing else was touched
    assert "stopped mail sink" in stopped.stdout and "kafka" not in stopped.stdout and "postgres" not in stopped.stdout
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
