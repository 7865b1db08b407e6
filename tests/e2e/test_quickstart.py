"""docs/quickstart.md works as written: its shell steps run one by one against this folder's
stack (the install's browser scripted, as tests/cli does), then its `thanks.py`, exactly as
the page shows it, receives order.paid on the app's topic and by webhook. The only change is
the webhook port (3000 → one of the demo workstream's)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.browser import install_through_cli
from tests.cli.runner import Flint
from tests.sdk.served import FlintServices

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
MARKER = "<!-- the block below is run by tests/e2e/test_quickstart.py -->"
PORT = "20342"


def blocks() -> tuple[list[str], str]:
    """The page's shell steps (one command a line) and its handler."""
    _, shell, handler = DOC.read_text().split(MARKER)
    steps = shell.split("```bash\n", 1)[1].split("```", 1)[0]
    code = handler.split("```python\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in steps.splitlines() if line.strip()], code


def test_the_handler_is_about_thirty_lines():
    _, code = blocks()
    assert len([line for line in code.splitlines() if line.strip()]) <= 35


def test_the_quickstart_handler_gets_order_paid_on_its_topic_and_by_webhook(live_stack, tmp_path):
    steps, code = blocks()
    (tmp_path / "thanks.py").write_text(code)
    flint = Flint(tmp_path, {})
    shell = {k: v for k, v in flint.env.items() if not k.startswith(("FLINT_", "KAFKA_", "DATABASE_"))}
    shell |= {"FLINT_CLI_HOME": flint.env["FLINT_CLI_HOME"], "FLINT_STATE_DIR": str(live_stack.state),
              "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PORT": PORT, "PYTHONUNBUFFERED": "1"}
    background: list[subprocess.Popen] = []
    try:
        for step in steps:
            step = step.replace("3000", PORT)
            if step.startswith("source "):
                shell |= live_stack.env  # what sourcing stack.env exports
            elif step == "flint install":
                flint.env = shell
                result, _ = install_through_cli(flint, FlintServices(live_stack.installs_url, ""))
                assert result.exit_code == 0, result.stderr
            elif step.startswith("export "):
                name, command = step.removeprefix("export ").split("=", 1)
                value = _run(command.removeprefix("$(").removesuffix(")"), shell, tmp_path)
                shell[name] = value.strip()
            elif step.endswith("&"):
                log = open(tmp_path / f"background-{len(background)}.log", "w")  # noqa: SIM115 - closed with the process
                background.append(subprocess.Popen(["bash", "-c", step.removesuffix("&")], cwd=tmp_path, env=shell,
                                                   stdout=log, stderr=subprocess.STDOUT))
            else:
                _run(step, shell, tmp_path)
        printed = _wait_for_both(tmp_path / "background-0.log")
    finally:
        for process in background:
            process.terminate()
        for process in background:
            process.wait(15)
    assert printed.count("kafka: order #") == 1 and printed.count("webhook: order #") == 1
    assert "paid 183.40 EUR" in printed


def _run(command: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _wait_for_both(log: Path, timeout: float = 45) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if "kafka: order #" in text and "webhook: order #" in text:
            return text
        time.sleep(0.3)
    pytest.fail(f"thanks.py did not print both deliveries within {timeout}s: {log.read_text()[-2000:]}")
