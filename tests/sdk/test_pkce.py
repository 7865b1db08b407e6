"""The install helper's pieces, checked against RFC 7636 and against what Flint sends back."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from flint_sdk.pkce import (
    InstallDenied,
    InstallError,
    StateMismatch,
    authorization_code,
    code_challenge,
    code_verifier,
    start_install,
)

AUTHORIZE = "https://installs.flint.test/oauth/authorize"


def test_the_challenge_is_rfc_7636s_s256_of_the_verifier():
    # RFC 7636, Appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_long_unreserved_and_fresh():
    verifiers = {code_verifier() for _ in range(100)}
    assert len(verifiers) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", v) for v in verifiers)


def test_the_authorize_url_carries_state_challenge_and_scopes():
    pending = start_install(AUTHORIZE, "app_01JD3Z5Y1B2C3D4E5F6G7H8J9K", "https://app.example/cb",
                            ["orders:read", "orders:write"])
    parts = urlsplit(pending.authorize_url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE
    assert params == {
        "response_type": "code", "client_id": "app_01JD3Z5Y1B2C3D4E5F6G7H8J9K",
        "redirect_uri": "https://app.example/cb",
        "state": pending.state, "code_challenge": code_challenge(pending.code_verifier),
        "code_challenge_method": "S256", "scope": "orders:read orders:write",
    }
    assert pending.code_verifier not in pending.authorize_url and pending.code_verifier not in repr(pending)


def test_each_install_gets_its_own_state_and_verifier():
    one, two = (start_install(AUTHORIZE, "app_x", "https://app.example/cb") for _ in range(2))
    assert one.state != two.state and one.code_verifier != two.code_verifier


@pytest.fixture
def pending():
    return start_install(AUTHORIZE, "app_x", "https://app.example/cb")


def test_the_redirect_gives_its_code_when_state_and_issuer_match(pending):
    callback = f"https://app.example/cb?code=c0de&state={pending.state}&iss=https://installs.flint.test"
    assert authorization_code(pending, callback, issuer="https://installs.flint.test") == "c0de"
    assert authorization_code(pending, {"code": "c0de", "state": pending.state}) == "c0de"


@pytest.mark.parametrize(("query", "error"), [
    ("code=c0de&state=other", StateMismatch),
    ("code=c0de", StateMismatch),
    ("error=access_denied&state={state}", InstallDenied),
    ("code=c0de&state={state}&iss=https://evil.example", InstallError),
    ("state={state}", InstallError),
    ("code=a&code=b&state={state}", InstallError),
], ids=["another-state", "no-state", "denied", "another-issuer", "no-code", "repeated-code"])
def test_a_redirect_that_cannot_complete_the_install_is_refused(pending, query, error):
    with pytest.raises(error):
        authorization_code(pending, "https://app.example/cb?" + query.format(state=pending.state),
                           issuer="https://installs.flint.test")
