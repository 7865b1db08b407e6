"""flint_sdk: what a plugin needs to trust and read what Flint sends it."""

from flint_sdk.events import Event, read_event
from flint_sdk.webhooks import InvalidSignature, sign, verify

__all__ = ["Event", "InvalidSignature", "read_event", "sign", "verify"]
