"""The benchmarks run on demand (`make bench`), not in `make test`; this keeps them from
rotting between runs: every benchmark module imports (a change to the services that breaks
one fails here, not an hour into a benchmark run), and `make bench` knows a runner for each
benchmark it names."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench import run

MODULES = sorted(p.stem for p in (Path(run.__file__).parent).glob("*.py") if not p.stem.startswith("__"))


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name):
    importlib.import_module(f"bench.{name}")


def test_make_bench_has_a_runner_for_every_benchmark_it_names():
    assert set(run.RUNNERS) == set(run.BENCHMARKS)
    assert "create" in run.BENCHMARKS  # issue 8's create targets are checked by make bench
