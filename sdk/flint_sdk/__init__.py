"""flint_sdk: what a plugin needs to trust and read what Flint sends it."""

from flint_sdk.webhooks import InvalidSignature, sign, verify

__all__ = ["InvalidSignature", "sign", "verify"]
