"""The ``flint`` command run as a user runs it: a process of its own (``python -m flint_cli``),
its profile in the test's folder, pointed at the test's services through the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The cli workstream's ports for the servers its tests start (services, callbacks, receivers).
PORTS = range(19300, 19400)

# Settings a developer's shell may carry that must not leak into a test's CLI.
_INHERITED_OUT = ("FLINT_", "KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class Flint:
    """Runs ``flint`` with one profile folder and one environment (a test's "shell")."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        base = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_OUT)}
        self.env = {**base, "FLINT_CLI_HOME": str(cwd / "profiles"), "COLUMNS": "200", **env}

    @property
    def profile_path(self) -> Path:
        return Path(self.env["FLINT_CLI_HOME"]) / "default.json"

    def profile(self) -> dict[str, Any]:
        return json.loads(self.profile_path.read_text())

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "flint_cli", *args]

    def __call__(self, *args: str, timeout: float = 90, **env: str) -> Result:
        done = subprocess.run(self.command(*args), cwd=self.cwd, env={**self.env, **env}, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Result(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """``flint <args>`` in the background, its output readable line by line."""
        return subprocess.Popen(self.command(*args), cwd=self.cwd, env={**self.env, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, bufsize=1)


def assert_one_line_error(result: Result, *fragments: str, exit_code: int | None = None) -> str:
    """The run failed with one ``flint: …`` line, the last on stderr, and no traceback (progress
    lines of the steps that ran before it may stand above it)."""
    assert result.exit_code != 0, result
    if exit_code is not None:
        assert result.exit_code == exit_code, result
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.error_lines if line.startswith("flint: ")]
    assert len(errors) == 1 and result.error_lines[-1] == errors[0], result.stderr
    line = errors[0]
    for fragment in fragments:
        assert fragment in line, line
    return line
