"""Verify Flint webhooks: ``Flint-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``.

The scheme lives in ``flint_contracts.webhooks``, which Flint's sender signs with, so the
verifier a plugin runs and the signer Flint runs can never drift apart. A plugin calls
:func:`verify` with the raw request body, the ``Flint-Signature`` header and its endpoint
secret(s); during a secret rotation it may pass both the old and the new secret.
"""

from __future__ import annotations

from flint_contracts.webhooks import (
    DEFAULT_TOLERANCE,
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    InvalidSignature,
    sign,
    verify,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "DELIVERY_ID_HEADER",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "InvalidSignature",
    "sign",
    "verify",
]
