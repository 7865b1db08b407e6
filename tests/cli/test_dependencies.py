"""The CLI installs without Flint's services: it loads only the SDK, the contracts and public
packages (the stack and the sandbox processor are run as processes), and answers quickly."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "sdk" / "cli"


def test_importing_every_cli_module_loads_no_flint_service():
    modules = sorted(f"flint_cli.{p.relative_to(CLI / 'flint_cli').with_suffix('').as_posix().replace('/', '.')}"
                     for p in (CLI / "flint_cli").rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    script = (f"import importlib, json, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.startswith('flint')})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                       check=True).stdout)
    assert "flint_cli.stream" in modules and "flint_cli.commands.install" in modules
    assert loaded == ["flint_cli", "flint_contracts", "flint_sdk"]


def test_answering_help_does_not_load_the_kafka_client():
    script = ("import sys\nfrom flint_cli.main import main\ncode = main(['--help'])\n"
              "print(sorted(m for m in ('faststream', 'aiokafka') if m in sys.modules), code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[] 0"


def test_the_cli_declares_only_the_sdk_contracts_and_public_packages():
    project = tomllib.loads((CLI / "pyproject.toml").read_text())["project"]
    names = {d.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip() for d in project["dependencies"]}
    assert names == {"flint-sdk", "flint-contracts", "typer", "rich", "httpx", "pydantic"}
    assert project["scripts"] == {"flint": "flint_cli.main:main"}


def test_every_dependency_of_the_cli_is_pinned():
    constraints = (CLI.parents[1] / "requirements" / "constraints.txt").read_text().splitlines()
    pinned = {line.split("==")[0].strip().lower().replace("_", "-") for line in constraints if "==" in line}
    for package in ("typer", "rich", "shellingham", "annotated-doc", "markdown-it-py", "mdurl", "pygments"):
        assert package in pinned, f"{package} is not pinned in requirements/constraints.txt"
