"""Path and query parameters, checked the same way on every route of every service.

``check_parameters`` runs before each route (the app factory installs it on every route):
- every path and query value is text Flint can store (``flint_contracts.text``): a NUL or a
  control character is a 422 ``invalid_text`` naming the parameter, never a database error;
- a query parameter the route does not declare is a 422 ``unknown_parameter`` (a misspelt
  filter must not silently list everything);
- a single-valued parameter given twice is a 422 ``repeated_parameter`` (which one would
  win is a guess).
A route that reads its query string itself (the OAuth authorize endpoint, whose parameters
RFC 6749 defines) is marked with ``@raw_query`` and gets the text check only.

Also here: the parameter types lists share (``Timestamp``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Request, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from flint_chassis.problems import VALIDATION_FAILED, Problem
from flint_chassis.http.wording import summary
from flint_contracts.text import text_problem

F = TypeVar("F", bound=Callable[..., Any])
_RAW_QUERY = "__flint_raw_query__"


def raw_query(endpoint: F) -> F:
    """Marks a route that reads its own query string: its parameters are not declared."""
    setattr(endpoint, _RAW_QUERY, True)
    return endpoint


class _Declared:
    """What one route declares: its query parameter names, and which take several values."""

    def __init__(self, route: APIRoute) -> None:
        queries = [f for f in get_flat_params(route.dependant) if isinstance(f.field_info, params.Query)]
        self.names = frozenset(f.alias for f in queries)
        self.multiple = frozenset(f.alias for f in queries if _takes_several(f.field_info.annotation))
        self.raw = bool(getattr(route.endpoint, _RAW_QUERY, False))


def _takes_several(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _takes_several(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_takes_several(arg) for arg in typing.get_args(annotation))
    return isinstance(origin, type) and issubclass(origin, (list, tuple, set, frozenset, Sequence))


def _declared_by(route: APIRoute) -> _Declared:
    found = route.__dict__.get("_flint_declared")
    if found is None:
        found = route.__dict__["_flint_declared"] = _Declared(route)
    return found


def _error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


async def check_parameters(request: Request) -> None:
    """The checks above, as a dependency every route runs first."""
    errors: list[dict[str, str]] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(value)):
            errors.append(_error(name, "invalid_text", problem))
    items = request.query_params.multi_items()
    for name, value in items:
        if problem := text_problem(name) or text_problem(value):
            errors.append(_error(name if not text_problem(name) else "query", "invalid_text", problem))
    route = request.scope.get("route")
    if not errors and isinstance(route, APIRoute) and items:
        declared = _declared_by(route)
        if not declared.raw:
            counts = Counter(name for name, _ in items)
            for name in counts:
                if name not in declared.names:
                    errors.append(_error(name, "unknown_parameter", "is not a parameter of this operation"))
                elif counts[name] > 1 and name not in declared.multiple:
                    errors.append(_error(name, "repeated_parameter", "must be given once"))
    if errors:
        raise Problem(VALIDATION_FAILED, summary(errors), errors=errors)


# --- parameter types ----------------------------------------------------------------------------

_ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$")
_TIMESTAMP_WORDS = "must be a date and time with a time zone, in ISO 8601 (2025-01-31T09:30:00Z)"


def _iso_text(value: Any) -> Any:
    # Without this, pydantic also reads numbers as Unix times: created_lt=0.5 was 1970.
    if not isinstance(value, str) or not _ISO_8601.match(value):
        raise ValueError(_TIMESTAMP_WORDS)
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the year 1 in UTC
        raise ValueError("must be between the years 1 and 9999 in UTC") from None


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]
"""A point in time given as ISO 8601 text with a time zone, as UTC."""
