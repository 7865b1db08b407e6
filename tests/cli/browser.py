"""The merchant's side of ``flint install``: a scripted browser (httpx, as tests/installs does)
opens the URL the CLI printed, logs in, approves or denies on Flint's consent page, and follows
Flint's redirect to the CLI's local callback."""

from __future__ import annotations

import queue
import subprocess
import threading

import httpx

from tests.cli.runner import PORTS, Flint, Result
from tests.installs.support import hidden_fields
from tests.sdk.served import FlintServices
from tests.support.http_server import free_port


def decide_in_browser(services: FlintServices, authorize_url: str, secret_key: str, decision: str) -> str:
    """Log in as the merchant and press approve or deny; returns where Flint redirects."""
    with httpx.Client(base_url=services.installs_url) as browser:
        login = browser.get(authorize_url)
        assert login.status_code == 200 and 'name="secret_key"' in login.text, login.text
        logged_in = browser.post("/oauth/login", data={**hidden_fields(login.text), "secret_key": secret_key})
        assert logged_in.status_code == 303, logged_in.text
        consent = browser.get(logged_in.headers["location"])
        assert consent.status_code == 200 and f'value="{decision}"' in consent.text, consent.text
        decided = browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": decision})
        assert decided.status_code == 303, decided.text
        return decided.headers["location"]


class Lines:
    """A process's stdout, line by line, with a deadline on each wait."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, prefix: str, timeout: float = 30) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line starting with {prefix!r} within {timeout}s; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"the output ended without a line starting with {prefix!r}; saw {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def rest(self) -> str:
        lines = []
        while (line := self._queue.get(timeout=30)) is not None:
            lines.append(line)
        self.seen.extend(lines)
        return "\n".join(self.seen)


def set_up_app(flint: Flint, *scopes: str) -> int:
    """A merchant and an app in the profile; returns the app's callback port."""
    port = free_port(PORTS)
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
    made = flint("apps", "create", "Balance Chaser", "--port", str(port), *scope_args)
    assert made.exit_code == 0, made.stderr
    return port


def install_through_cli(flint: Flint, services: FlintServices, decision: str = "approve",
                        *args: str) -> tuple[Result, httpx.Response]:
    """``flint install`` with the merchant answering in the browser; the CLI's result and the
    page the browser showed when it came back to the CLI."""
    process = flint.start("install", *args)
    try:
        lines = Lines(process)
        authorize_url = lines.until(f"{services.installs_url}/oauth/authorize")
        secret_key = flint.profile()["merchant"]["secret_key"]
        back_to_cli = decide_in_browser(services, authorize_url, secret_key, decision)
        page = httpx.get(back_to_cli, timeout=10)
        process.wait(timeout=60)
        stdout = lines.rest()
        assert process.stderr is not None
        return Result(process.returncode, stdout, process.stderr.read()), page
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
