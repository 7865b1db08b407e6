"""The webhook signature scheme: what Flint signs, a receiver accepts, and nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flint_contracts.limits import MAX_SIGNATURE_HEADER_LENGTH
from flint_contracts.webhooks import (
    SECRET_PREFIX,
    InvalidSignature,
    new_secret,
    parse_header,
    sign,
    verify,
)

BODY = b'{"id":"evt_1","type":"order.paid","data":{"amount":{"amount":1250,"currency":"EUR"}}}'
T = 1_800_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_under_the_secret():
    secret = new_secret()
    header = sign(BODY, [secret], timestamp=T)
    expected = hmac.new(secret.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert verify(BODY, header, secret, now=T) == T


def test_a_new_secret_is_prefixed_and_carries_at_least_32_random_bytes():
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        raw = base64.urlsafe_b64decode(secret.removeprefix(SECRET_PREFIX) + "==")
        assert len(raw) >= 32


@given(body=st.binary(max_size=200), other=st.binary(max_size=200))
def test_any_change_to_the_body_is_refused(body, other):
    header = sign(body, ["whsec_k"], timestamp=T)
    if other == body:
        assert verify(other, header, "whsec_k", now=T) == T
    else:
        with pytest.raises(InvalidSignature, match="no signature matches"):
            verify(other, header, "whsec_k", now=T)


@pytest.mark.parametrize("skew", [-301, 301, -10_000, 10_000])
def test_a_timestamp_more_than_300_seconds_away_is_refused(skew):
    header = sign(BODY, ["whsec_k"], timestamp=T)
    with pytest.raises(InvalidSignature, match="outside the 300s tolerance"):
        verify(BODY, header, "whsec_k", now=T + skew)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_a_timestamp_within_300_seconds_is_accepted(skew):
    assert verify(BODY, sign(BODY, ["whsec_k"], timestamp=T), "whsec_k", now=T + skew) == T


def test_a_timestamp_changed_after_signing_is_refused():
    header = sign(BODY, ["whsec_k"], timestamp=T).replace(f"t={T}", f"t={T + 1}")
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(BODY, header, "whsec_k", now=T)


def test_a_wrong_secret_is_refused():
    header = sign(BODY, [new_secret()], timestamp=T)
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(BODY, header, [new_secret(), new_secret()], now=T)


def test_during_rotation_the_delivery_carries_one_signature_per_secret_and_either_verifies():
    old, new, unrelated = new_secret(), new_secret(), new_secret()
    header = sign(BODY, [old, new], timestamp=T)
    assert header.count("v1=") == 2
    assert verify(BODY, header, old, now=T) == T
    assert verify(BODY, header, new, now=T) == T
    assert verify(BODY, header, [unrelated, new], now=T) == T
    with pytest.raises(InvalidSignature):
        verify(BODY, header, unrelated, now=T)


def test_spaces_upper_case_hex_and_unknown_schemes_do_not_get_in_the_way():
    digest = sign(BODY, ["whsec_k"], timestamp=T).split("v1=")[1]
    header = f" t={T} , v0=deadbeef, v2={'0' * 64},v1={digest.upper()} "
    assert verify(BODY, header, "whsec_k", now=T) == T


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "exactly one t"),
        (f"v1={'a' * 64}", "exactly one t"),
        (f"t={T}", "no v1 signature"),
        (f"t={T},v1=abc", "no v1 signature"),
        (f"t={T},t={T},v1={'a' * 64}", "exactly one t"),
        (f"t=-5,v1={'a' * 64}", "t is not a unix timestamp"),
        (f"t=1²,v1={'a' * 64}", "t is not a unix timestamp"),
        (f"t=１２,v1={'a' * 64}", "t is not a unix timestamp"),
        ("t=1," + "v1=" + "a" * MAX_SIGNATURE_HEADER_LENGTH, "too long"),
    ],
    ids=["empty", "no-t", "no-v1", "short-v1", "two-t", "negative-t", "superscript-digit", "fullwidth-digits",
         "too-long"],
)
def test_malformed_headers_are_refused_with_the_reason(header, reason):
    with pytest.raises(InvalidSignature, match=f"malformed Flint-Signature header: .*{reason}"):
        verify(BODY, header, "whsec_k", now=T)


_PIECES = st.one_of(
    st.text(max_size=30),
    st.builds(lambda v: f"t={v}", st.text(max_size=14)),
    st.builds(lambda v: f"v1={v}", st.text(alphabet="0123456789abcdefABCDEF=, ", max_size=70)),
    st.sampled_from(["t=1800000000", ",", " ", "=", "v1=", "t=", "t=٣", "v1=" + "f" * 64]),
)


@given(st.one_of(st.text(max_size=300), st.lists(_PIECES, max_size=12).map(",".join)))
def test_any_header_either_parses_or_is_refused_as_invalid(header):
    # A receiver calls verify() on whatever arrives: it must never fail with anything else.
    try:
        timestamp, signatures = parse_header(header)
    except InvalidSignature:
        return
    assert 0 <= timestamp < 10**12
    assert all(len(s) == 64 for s in signatures)
    with pytest.raises(InvalidSignature):
        verify(BODY, header, "whsec_k", now=timestamp)


def test_signing_or_verifying_without_a_secret_is_a_programming_error():
    with pytest.raises(ValueError, match="secret"):
        sign(BODY, [], timestamp=T)
    with pytest.raises(ValueError, match="secret"):
        verify(BODY, sign(BODY, ["whsec_k"], timestamp=T), [""], now=T)
