"""The SDK installs without Flint's services: importing all of it loads only the contracts
and public packages."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk"
FLINT_PACKAGES = ("flint_chassis", "flint_orders", "flint_installs", "flint_payments", "flint_refunds",
                  "flint_invoicing")


def test_importing_every_sdk_module_loads_no_flint_service():
    modules = sorted(f"flint_sdk.{p.relative_to(SDK / 'flint_sdk').with_suffix('').as_posix().replace('/', '.')}"
                     for p in (SDK / "flint_sdk").rglob("*.py") if p.name != "__init__.py")
    script = (f"import importlib, json, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.startswith('flint')})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                       check=True).stdout)
    assert "flint_sdk.plugin" in modules and "flint_sdk.client" in modules
    assert loaded == ["flint_contracts", "flint_sdk"]
    assert not set(loaded) & set(FLINT_PACKAGES)


def test_the_sdk_declares_only_the_contracts_and_public_packages():
    declared = tomllib.loads((SDK / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip() for d in declared}
    assert names == {"flint-contracts", "httpx", "faststream", "tenacity", "pydantic"}


def test_every_dependency_of_the_sdk_is_pinned():
    constraints = (SDK.parent / "requirements" / "constraints.txt").read_text().splitlines()
    pinned = {line.split("==")[0].strip().lower().replace("_", "-") for line in constraints if "==" in line}
    for package in ("httpx", "faststream", "aiokafka", "tenacity", "pydantic", "anyio", "httpcore", "fast-depends"):
        assert package in pinned, f"{package} is not pinned in requirements/constraints.txt"
