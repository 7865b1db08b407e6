"""Lists behave alike in every service.

- ``limit``: 1 to 100 (``flint_contracts.limits.MAX_PAGE_SIZE``), 20 by default.
- ``starting_after``: the ``next_cursor`` of the previous page. A cursor is opaque: the
  list's position (e.g. ``[created_at, id]`` of the last item) as base64url JSON, signed
  with HMAC under the service's secret, bound to the list and to the caller. An edited
  cursor, or one from another list, caller or service, is a 422 ``invalid_cursor``.
- Every page is ``{"object": "list", "data": [...], "has_more": bool, "next_cursor": str|null}``.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field

from flint_chassis.problems import INVALID_CURSOR, invalid
from flint_chassis.service_secret import ServiceSecret, b64url, b64url_decode
from flint_contracts.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_CURSOR_LENGTH = 512
_CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")]
StartingAfter = Annotated[str | None, Query(
    max_length=MAX_CURSOR_LENGTH, pattern=_CURSOR_PATTERN,
    description="The `next_cursor` of the previous page; omit for the first page.",
)]
After = Annotated[str | None, Query(
    max_length=MAX_CURSOR_LENGTH, pattern=_CURSOR_PATTERN,
    description="The `next_cursor` of the previous page: read what came after it. Omit to start at the oldest.",
)]
"""``after``, for feeds a client reads on from where it stopped (``GET /v1/events``)."""
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list (documentation: routes may write the JSON themselves with ``page_json``)."""

    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool = Field(description="Whether another page follows.")
    next_cursor: str | None = Field(
        description="Pass as `starting_after` for the next page; null on the last page.", max_length=MAX_CURSOR_LENGTH)


class Cursors:
    """Signs list positions into cursors and reads them back."""

    def __init__(self, secret: ServiceSecret) -> None:
        self._secret = secret

    def encode(self, list_name: str, caller: str, position: Sequence[Any]) -> str:
        payload = b64url(orjson.dumps(list(position)))
        return f"{payload}.{self._signature(list_name, caller, payload)}"

    def decode(self, list_name: str, caller: str, cursor: str) -> list[Any]:
        """The position in ``cursor``, or a 422 ``invalid_cursor`` problem."""
        payload, _, signature = cursor.partition(".")
        if not signature or not self._secret.verify(f"cursor:{list_name}", f"{caller}\n{payload}", signature):
            raise invalid_cursor()
        try:
            position = orjson.loads(b64url_decode(payload))
        except (ValueError, binascii.Error):  # signed by us, so only a bug gets here
            raise invalid_cursor() from None
        if not isinstance(position, list):
            raise invalid_cursor()
        return position

    def _signature(self, list_name: str, caller: str, payload: str) -> str:
        return self._secret.sign(f"cursor:{list_name}", f"{caller}\n{payload}")


def invalid_cursor() -> Exception:
    """The 422 for a cursor this list did not hand out."""
    return invalid("starting_after", "invalid_cursor", "is not a cursor this list handed out", kind=INVALID_CURSOR)


def page_json(items: Sequence[bytes], has_more: bool, next_cursor: str | None) -> bytes:
    """A page from items already encoded as JSON (stored JSON goes out without decoding)."""
    return (b'{"object":"list","data":[' + b",".join(items) + b'],"has_more":'
            + (b"true" if has_more else b"false") + b',"next_cursor":' + orjson.dumps(next_cursor) + b"}")


def split_page(rows: Sequence[T], limit: int) -> tuple[Sequence[T], bool]:
    """Rows fetched with ``limit + 1``: the page, and whether more follow."""
    return rows[:limit], len(rows) > limit
