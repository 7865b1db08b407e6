"""The install's event feed (``GET /v1/events?after=<cursor>``, installs service): what its
Kafka topic holds, replayable for 30 days. Not built yet on the service side; the call
follows docs/product.md and is not tested against it."""

from __future__ import annotations

from flint_contracts.envelope import EventEnvelope
from flint_sdk.api.operation import Operation, page_of
from flint_sdk.models import Page

SERVICE = "installs"


def list_(*, after: str | None = None, limit: int | None = None) -> Operation[Page[EventEnvelope]]:
    return Operation("GET", SERVICE, "/v1/events", page_of(EventEnvelope), params={"after": after, "limit": limit},
                     cursor_param="after")
