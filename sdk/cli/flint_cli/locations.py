"""Where the CLI finds the Flint checkout, the stack's environment file and its profiles.

- **The checkout** (for ``flint dev``): ``$FLINT_ROOT``, else the nearest folder at or above
  the current one holding ``deploy/stack.py``.
- **The stack's environment** (URLs, the admin key, the Kafka listeners), as ``deploy/stack.py
  up`` writes it: ``$FLINT_STACK_ENV``, else ``<checkout>/.flint/stack.env`` (the state folder
  follows ``$FLINT_STATE_DIR``, as for ``deploy/stack.py``).
- **Profiles**: ``$FLINT_CLI_HOME``, else ``<checkout>/.flint/cli/`` inside a checkout (so
  ``make reset``, which deletes the stack's data, also forgets tokens that stack issued),
  else ``$XDG_CONFIG_HOME/flint`` (``~/.config/flint``).
"""

from __future__ import annotations

import os
from pathlib import Path

from flint_cli.failures import CliError

STACK_SCRIPT = Path("deploy") / "stack.py"


def checkout_root() -> Path | None:
    """The Flint checkout the CLI works with, or None outside one."""
    if given := os.environ.get("FLINT_ROOT"):
        root = Path(given).expanduser().resolve()
        if not (root / STACK_SCRIPT).is_file():
            raise CliError(f"FLINT_ROOT={given} is not a Flint checkout (no {STACK_SCRIPT} there)")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / STACK_SCRIPT).is_file():
            return folder
    return None


def state_dir(root: Path) -> Path:
    """The checkout's ``.flint`` (or ``$FLINT_STATE_DIR``, relative to the checkout or absolute)."""
    return root / os.environ.get("FLINT_STATE_DIR", ".flint")


def stack_env_file() -> Path | None:
    if given := os.environ.get("FLINT_STACK_ENV"):
        return Path(given).expanduser()
    root = checkout_root()
    return state_dir(root) / "stack.env" if root else None


def read_stack_env() -> dict[str, str]:
    """The variables ``deploy/stack.py up`` wrote; empty when there is no such file."""
    path = stack_env_file()
    if path is None or not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def profile_home() -> Path:
    if given := os.environ.get("FLINT_CLI_HOME"):
        return Path(given).expanduser()
    root = checkout_root()
    if root is not None:
        return state_dir(root) / "cli"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "flint"
