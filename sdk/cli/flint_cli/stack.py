"""Running ``deploy/stack.py`` (the local launcher) as a process of its own.

The CLI never imports the launcher: it is a script of the checkout, written for the standard
library only, and the CLI may be installed where no checkout is.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from flint_cli import locations, output
from flint_cli.failures import CliError


@dataclass(frozen=True)
class StackRun:
    exit_code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The launcher's own one-line error (``flint stack: …``), without its prefix."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else f"deploy/stack.py exited with status {self.exit_code}"
        return last.removeprefix("flint stack: ")


def script() -> tuple[Path, Path]:
    """The checkout and its launcher; a clear error outside a checkout."""
    root = locations.checkout_root()
    if root is None:
        raise CliError("`flint dev` runs inside a Flint checkout (a folder with deploy/stack.py), or set FLINT_ROOT")
    return root, root / locations.STACK_SCRIPT


def run(*args: str, echo: bool = False) -> StackRun:
    """``deploy/stack.py <args>``; with ``echo``, its lines are shown (stderr) as they come."""
    root, launcher = script()
    process = subprocess.Popen([sys.executable, str(launcher), *args], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    stdout: list[str] = []
    assert process.stdout is not None and process.stderr is not None
    for line in process.stdout:
        stdout.append(line)
        if echo:
            output.err.print(line.rstrip("\n"), markup=False)  # beside the spinner, which is on stderr
    stderr = process.stderr.read()
    return StackRun(process.wait(), "".join(stdout), stderr)
