"""The Jinja2 environment of the package's templates (pages and mail): autoescaped HTML,
and an error for any name a template uses that its view model lacks."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def templates() -> Environment:
    return Environment(
        loader=PackageLoader("flint_invoicing", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
