"""Every problem code an API can answer is explained in docs/problems.md, and nothing there
is left over: the ``type`` URL of each problem leads somewhere true."""

from __future__ import annotations

import re
from pathlib import Path

import flint_installs.app  # noqa: F401 - registers installs' problem types
import flint_orders.app  # noqa: F401 - registers orders' problem types
import flint_refunds.app  # noqa: F401 - registers refunds' problem types
import flint_invoicing.app  # noqa: F401 - registers invoicing's problem types
from flint_chassis.problems import REGISTRY, TYPE_BASE

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def test_docs_problems_md_lists_exactly_the_registered_codes_with_their_status():
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC.read_text(), flags=re.MULTILINE))
    assert documented == {code: str(kind.status) for code, kind in REGISTRY.items()}


def test_each_type_is_the_documented_url_of_its_code():
    assert all(kind.type == f"{TYPE_BASE}{code}" for code, kind in REGISTRY.items())
    assert TYPE_BASE == "https://flint.dev/problems/"
