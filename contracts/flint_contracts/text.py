"""Text and JSON that Flint accepts anywhere: checked once, where it enters.

Every string a caller or producer hands Flint ends up in PostgreSQL (``text`` / ``jsonb``)
and in JSON documents other programs parse. PostgreSQL cannot store a NUL character, and a
lone UTF-16 surrogate is not Unicode at all, so JSON encoders refuse it. Both are refused
here, with a message naming the problem, before anything is stored; so are the other C0
control characters except tab, line feed and carriage return.

- ``SafeStr``: a pydantic string type with that check (HTTP request models, contract models).
- :func:`text_problem`: the same check as a function, for path and query parameters and
  anything that is not a pydantic model.
- :func:`json_problem`: free-form JSON (plugin metadata, an event's ``data``): every key and
  string checked, nesting depth and integer size bounded, so a value that stores also reads
  back the same in every JSON parser.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator

from flint_contracts.limits import MAX_JSON_DEPTH, MAX_JSON_INTEGER

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None when it can."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "must not contain a NUL character"
    if "\ud800" <= char <= "\udfff":
        return "must not contain a lone surrogate (it is not valid Unicode)"
    return f"must not contain the control character U+{ord(char):04X}"


def check_text(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` saying what is wrong with it."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def replace_unsafe_text(value: str, replacement: str = "\ufffd") -> str:
    """``value`` with every character :func:`text_problem` refuses replaced, for text Flint
    stores but did not accept from anyone (e.g. the start of a webhook receiver's answer)."""
    return _UNSAFE.sub(replacement, value)


SafeStr = Annotated[str, AfterValidator(check_text)]
"""A string without NUL, lone surrogates or control characters other than tab and newlines."""


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """The first reason ``value`` (decoded JSON) cannot be stored and read back as it is:
    ``(path, reason)`` with a dotted path (``"a.b.0"``, ``""`` for the value itself), or None.

    Refused: text ``text_problem`` refuses (in keys too), nesting deeper than ``max_depth``,
    integers beyond ±``MAX_JSON_INTEGER`` (JavaScript reads them wrong), non-finite floats,
    and anything that is not JSON (bytes, sets, objects).
    """
    # Iterative, so a hostile document of 100,000 levels costs a loop, not a RecursionError.
    # Each entry keeps its parent's entry and its key; the dotted path is only built for the
    # one item that has a problem (building it for every item cost more than the checks).
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while stack:
        entry = stack.pop()
        item, _, depth = entry
        if isinstance(item, str):
            if (problem := text_problem(item)) is not None:
                return _path(entry), problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_JSON_INTEGER <= item <= MAX_JSON_INTEGER:
                return _path(entry), f"integers must be between -{MAX_JSON_INTEGER} and {MAX_JSON_INTEGER}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return _path(entry), "numbers must be finite"
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                return _path(entry), f"must not nest more than {max_depth} levels deep"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    return _join(_path(entry), key), f"keys {problem}"
                if not isinstance(key, (str, int)):
                    return _path(entry), "object keys must be strings"
                stack.append((child, (entry, key), depth + 1))
        else:
            return _path(entry), f"{type(item).__name__} is not a JSON value"
    return None


def _path(entry: tuple[Any, Any, int]) -> str:
    """The dotted path of a ``json_problem`` stack entry, from its parents' keys."""
    keys = []
    while entry[1] is not None:
        entry, key = entry[1]
        keys.append(key)
    return ".".join(str(key) for key in reversed(keys))


def check_json(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``value`` unchanged, or ``ValueError("<path>: <reason>")``."""
    found = json_problem(value, max_depth=max_depth)
    if found is not None:
        path, reason = found
        raise ValueError(f"{path}: {reason}" if path else reason)
    return value


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)
