"""flint_sdk: what a plugin needs to trust and read what Flint sends it."""

from flint_sdk.events import Event, read_event
from flint_sdk.webhooks import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    InvalidSignature,
    sign,
    verify,
)

__all__ = [
    "DELIVERY_ID_HEADER",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "Event",
    "InvalidSignature",
    "read_event",
    "sign",
    "verify",
]
