"""One API call described as data: method, service, path, parameters, body, how to read the
answer. The resource modules build operations; the sync and async clients run them, so
the two clients share every path, parameter and parser and differ only in how they wait."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from flint_sdk.models import Page
from flint_sdk.retries import is_safe

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Operation(Generic[T]):
    """A call to ``service`` (``"orders"``, ``"installs"`` ...) and the parser of its answer.

    ``idempotency_key`` is sent as the ``Idempotency-Key`` header; an operation is built once
    per call, so every retry of the call carries the same key. ``safe`` overrides the
    method's own safety for a POST that changes nothing (a refund quote).
    """

    method: str
    service: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    idempotency_key: str | None = None
    cursor_param: str | None = None
    changes_nothing: bool = False

    @property
    def safe(self) -> bool:
        """Whether sending it twice cannot change the outcome (so it may be retried)."""
        return self.changes_nothing or is_safe(self.method, self.idempotency_key)

    def query(self) -> dict[str, str]:
        """The query parameters as strings, without the ones not given."""
        return {name: _query_value(value) for name, value in (self.params or {}).items() if value is not None}

    def next_page(self, cursor: str) -> Operation[T]:
        """The same list call, starting after ``cursor``."""
        assert self.cursor_param, "not a list operation"
        return replace(self, params={**(self.params or {}), self.cursor_param: cursor})


def new_idempotency_key() -> str:
    """A fresh key for one call (random, so two calls never share one)."""
    return str(uuid.uuid4())


def path(template: str, *ids: str) -> str:
    """``template`` with each ``{}`` filled by an id, escaped so it stays one path segment."""
    return template.format(*(quote(str(value), safe="") for value in ids))


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give times with a time zone (datetime(..., tzinfo=UTC))")
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- parsers ----------------------------------------------------------------------------------


def model(cls: type[M]) -> Callable[[httpx.Response], M]:
    """Reads the answer as ``cls``."""
    return lambda response: cls.model_validate_json(response.content)


def page_of(cls: type[M]) -> Callable[[httpx.Response], Page[M]]:
    """Reads a list answer. When the API sends no ``next_cursor`` but ``has_more``, the last
    item's id is the cursor (lists keyed by id accept it as ``starting_after``)."""

    def parse(response: httpx.Response) -> Page[M]:
        document = response.json()
        items = document.get("data") or []
        cursor = document.get("next_cursor")
        if cursor is None and document.get("has_more") and items:
            cursor = items[-1].get("id")
        return Page[cls](data=[cls.model_validate(item) for item in items],
                         has_more=bool(document.get("has_more")), next_cursor=cursor)

    return parse


def raw_bytes(response: httpx.Response) -> bytes:
    return response.content


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the fields not given; models become their JSON form."""
    return {name: _json_value(value) for name, value in fields.items() if value is not None}


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value
