"""What the CLI prints: tables and lines for people on stdout (rich), plain JSON for
programs (``--json``), progress and notes on stderr so they never mix into piped output."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from flint_contracts.money import Money

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    """``value`` as JSON on stdout, nothing else (models as their JSON form)."""
    sys.stdout.write(json.dumps(jsonable(value), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(value: Any) -> None:
    """One JSON document per line, for streams (``events tail --json``)."""
    sys.stdout.write(json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def money(value: Money | dict[str, Any] | None) -> str:
    """``28.80 EUR``: minor units shown in the currency's own exponent."""
    if value is None:
        return "-"
    amount = value if isinstance(value, Money) else Money.model_validate(value)
    return f"{amount.to_decimal()} {amount.currency}"


def note(message: str) -> None:
    """A line for the person at the terminal (stderr)."""
    err.print(message, markup=False)


@contextlib.contextmanager
def step(message: str) -> Iterator[None]:
    """A spinner on stderr while a long step runs, then a check mark (or a cross) after it."""
    with err.status(message, spinner="dots"):
        try:
            yield
        except BaseException:
            err.print(f"[red]✗[/] {escape(message)}")
            raise
    err.print(f"[green]✓[/] {escape(message)}")
