"""``python -m flint_chassis.http.write_openapi MODULE:FUNCTION PATH [--check]``: writes (or
checks) the OpenAPI document of the app that ``FUNCTION`` builds; ``make openapi`` runs it
for every service into docs/openapi/<service>.json."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from flint_chassis.http.openapi import render


def document_of(factory: str) -> str:
    """The rendered document of ``MODULE:FUNCTION``'s app."""
    module, _, function = factory.partition(":")
    return render(getattr(importlib.import_module(module), function)().openapi())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flint_chassis.http.write_openapi", description=__doc__.splitlines()[0])
    parser.add_argument("factory", help="MODULE:FUNCTION returning the service's FastAPI app (documentation settings)")
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs instead of writing it")
    args = parser.parse_args(argv)
    text = document_of(args.factory)
    if args.check:
        current = args.path.read_text() if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
