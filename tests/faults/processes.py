"""A Flint service as a real process (`python -m flint_<name> --role ...`), as `make up` runs
it, that a fault test can SIGKILL and start again. Its output goes to a log file the test
prints when the process does not come up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(self, name: str, role: str, port: int, env: dict[str, str], logs: Path, label: str | None = None) -> None:
        self.name, self.role, self.port, self.env = name, role, port, env
        self.label = label or f"{name}-{role}"
        self.log = logs / f"{self.label}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> ServiceProcess:
        upper = self.name.upper()
        env = {**os.environ, **self.env, f"FLINT_{upper}_PORT": str(self.port), f"FLINT_{upper}_ROLE": self.role}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", f"flint_{self.name}"], cwd=ROOT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited ({self.process.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush, as a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
