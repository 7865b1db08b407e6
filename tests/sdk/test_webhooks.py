"""A plugin can tell a real Flint delivery from a forged, altered or replayed one."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from flint_sdk.webhooks import InvalidSignature, sign, verify

BODY = b'{"id":"evt_1","type":"order.paid"}'


def test_a_delivery_signed_with_the_endpoint_secret_verifies():
    header = sign(BODY, ["whsec_a"], timestamp=1_800_000_000)
    expected = hmac.new(b"whsec_a", b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"
    assert verify(BODY, header, "whsec_a", now=1_800_000_010) == 1_800_000_000


def test_during_rotation_either_secret_verifies():
    header = sign(BODY, ["whsec_old", "whsec_new"], timestamp=1_800_000_000)
    assert verify(BODY, header, ["whsec_new"], now=1_800_000_000)
    assert verify(BODY, header, ["whsec_old"], now=1_800_000_000)


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "reason"),
    [
        (BODY + b" ", sign(BODY, ["s"], timestamp=100), "s", 100, "no signature matches"),
        (BODY, sign(BODY, ["other"], timestamp=100), "s", 100, "no signature matches"),
        (BODY, sign(BODY, ["s"], timestamp=100), "s", 100 + 301, "outside the 300s tolerance"),
        (BODY, "v1=abc", "s", 100, "malformed Flint-Signature header"),
        (BODY, "t=100", "s", 100, "malformed Flint-Signature header"),
    ],
    ids=["altered-body", "wrong-secret", "replayed-late", "no-timestamp", "no-signature"],
)
def test_forged_altered_or_replayed_deliveries_are_refused(body, header, secret, now, reason):
    with pytest.raises(InvalidSignature, match=reason):
        verify(body, header, secret, now=now)
