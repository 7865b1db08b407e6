"""Validation errors in Flint's own words: pydantic's error list becomes ``errors[]`` of
``{"field", "code", "message"}``, with codes clients can switch on and messages that never
quote pydantic ("Input should be a valid dictionary", "Value error, ...")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

_SOURCES = ("body", "query", "path", "header", "cookie")

Wording = Callable[[dict[str, Any]], tuple[str, str]]


def _fixed(code: str, message: str) -> Wording:
    return lambda ctx: (code, message)


def _length(code: str, template: str, one: str | None = None) -> Wording:
    def word(ctx: dict[str, Any]) -> tuple[str, str]:
        n = ctx.get("min_length", ctx.get("max_length"))
        return code, (one if one is not None and n == 1 else template.format(n=n))

    return word


def _bound(code: str, key: str, template: str) -> Wording:
    return lambda ctx: (code, template.format(ctx.get(key)))


def _choices(ctx: dict[str, Any]) -> tuple[str, str]:
    return "not_allowed", f"must be one of {ctx.get('expected', 'the documented values')}"


def _own(ctx: dict[str, Any]) -> tuple[str, str]:
    # Our validators raise ValueError with a message meant for the caller.
    return "invalid", str(ctx.get("error", "is not valid")) or "is not valid"


_DATETIME = _fixed("invalid_datetime", "must be a date and time with a time zone, in ISO 8601 "
                                       "(2025-01-31T09:30:00Z)")
_INTEGER = _fixed("not_an_integer", "must be a whole number")
_WORDING: dict[str, Wording] = {
    "missing": _fixed("required", "is required"),
    "extra_forbidden": _fixed("unknown_field", "is not a field of this request"),
    "string_too_short": _length("too_short", "must be at least {n} characters", one="must not be empty"),
    "string_too_long": _length("too_long", "must be at most {n} characters"),
    "too_short": _length("too_few", "must have at least {n} items", one="must not be empty"),
    "too_long": _length("too_many", "must have at most {n} items"),
    "greater_than_equal": _bound("too_small", "ge", "must be at least {}"),
    "greater_than": _bound("too_small", "gt", "must be more than {}"),
    "less_than_equal": _bound("too_large", "le", "must be at most {}"),
    "less_than": _bound("too_large", "lt", "must be less than {}"),
    "int_type": _INTEGER, "int_parsing": _INTEGER, "int_from_float": _INTEGER, "int_parsing_size": _INTEGER,
    "float_type": _fixed("not_a_number", "must be a number"),
    "float_parsing": _fixed("not_a_number", "must be a number"),
    "string_type": _fixed("not_text", "must be text"),
    "string_unicode": _fixed("not_text", "must be text"),
    "bool_type": _fixed("not_a_boolean", "must be true or false"),
    "bool_parsing": _fixed("not_a_boolean", "must be true or false"),
    "dict_type": _fixed("not_an_object", "must be a JSON object"),
    "model_type": _fixed("not_an_object", "must be a JSON object"),
    "model_attributes_type": _fixed("not_an_object", "must be a JSON object"),
    "list_type": _fixed("not_a_list", "must be a list"),
    "tuple_type": _fixed("not_a_list", "must be a list"),
    "set_type": _fixed("not_a_list", "must be a list"),
    "literal_error": _choices,
    "enum": _choices,
    "string_pattern_mismatch": _bound("pattern_mismatch", "pattern", "must match the pattern {}"),
    "datetime_type": _DATETIME, "datetime_parsing": _DATETIME, "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME, "timezone_aware": _DATETIME,
    "value_error": _own,
    "assertion_error": _own,
}


def field_name(loc: Iterable[Any]) -> str:
    """``("body", "line_items", 0, "quantity")`` -> ``"line_items.0.quantity"``; a header or
    parameter keeps its own name; the whole body is ``"body"``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source, parts = parts[0], parts[1:]
        if not parts:
            return source
    return ".".join(str(p) for p in parts) or "body"


def field_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as ``[{"field", "code", "message"}]``, one per field and reason."""
    result: list[dict[str, str]] = []
    for error in errors:
        word = _WORDING.get(error.get("type", ""), _fixed("invalid", "is not valid"))
        code, message = word(error.get("ctx") or {})
        entry = {"field": field_name(error.get("loc", ())), "code": code, "message": message}
        if entry not in result:
            result.append(entry)
    return result


def summary(errors: list[dict[str, str]]) -> str:
    """The ``detail`` line of a validation problem."""
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
