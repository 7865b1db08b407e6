"""JSON responses written with orjson (the stored JSON of an order goes out as it is)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``body`` as JSON: bytes and str are sent as they are, anything else is encoded
    (pydantic models in their JSON mode)."""
    if hasattr(body, "model_dump"):
        body = body.model_dump(mode="json")
    if not isinstance(body, (bytes, str)):
        body = orjson.dumps(body)
    return Response(body, status_code=status_code, media_type=JSON, headers=headers)
