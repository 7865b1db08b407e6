"""The install model and the OAuth rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flint_contracts.events import parse_data
from flint_installs.domain import (
    AuthorizationCode,
    CodeReplayed,
    Install,
    OAuthError,
    RefreshToken,
    RefreshTokenReused,
    pkce_matches,
    pkce_s256,
    redirect_uri_problem,
    requested_scopes,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_the_s256_challenge_matches_the_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


@pytest.mark.parametrize("verifier", [None, "", "short", "x" * 129, "a" * 42 + "!"])
def test_a_malformed_verifier_never_matches(verifier):
    assert not pkce_matches(verifier, pkce_s256("a" * 43))


@pytest.mark.parametrize(("uri", "ok"), [
    ("https://app.example/cb", True),
    ("https://app.example/cb?tenant=1", True),
    ("http://127.0.0.1:8000/cb", True),
    ("http://[::1]:8000/cb", True),
    ("http://localhost/cb", True),
    ("http://app.example/cb", False),
    ("https://app.example/cb#x", False),
    ("app.example/cb", False),
    ("javascript:alert(1)", False),
    ("https://u:p@app.example/cb", False),
])
def test_redirect_uri_rules(uri, ok):
    assert (redirect_uri_problem(uri) is None) is ok


def test_requested_scopes_default_to_the_apps_and_refuse_others():
    allowed = ("orders:read", "refunds:write")
    assert requested_scopes(None, allowed) == allowed
    assert requested_scopes("refunds:write orders:read refunds:write", allowed) == ("orders:read", "refunds:write")
    with pytest.raises(OAuthError) as beyond:
        requested_scopes("invoices:write", allowed)
    with pytest.raises(OAuthError) as unknown:
        requested_scopes("orders:all", allowed)
    assert beyond.value.error == unknown.value.error == "invalid_scope"


def test_an_install_records_created_then_scopes_updated_then_uninstalled():
    install = Install.create("mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K", "app_01JD3Z5Y1B2C3D4E5F6G7H8J9K", ["orders:read"], NOW)
    install.grant(["orders:read"], NOW + timedelta(seconds=1))  # the same scopes again: no change
    install.grant(["refunds:write", "orders:read"], NOW + timedelta(seconds=2))
    assert install.uninstall(NOW + timedelta(seconds=3))
    assert not install.uninstall(NOW + timedelta(seconds=4))

    events = install.pull_events()

    assert [e.type for e in events] == ["install.created", "install.scopes_updated", "install.uninstalled"]
    assert [e.version for e in events] == [1, 2, 3] and {e.subject for e in events} == {install.id}
    assert events[1].previous == {"scopes": ["orders:read"]}
    assert events[2].data["status"] == "uninstalled" and events[2].data["scopes"] == ["orders:read", "refunds:write"]
    for event in events:
        parse_data(event)  # each agrees with the contract, envelope included
    assert install.pull_events() == []


def test_an_uninstalled_install_cannot_be_granted_again():
    install = Install.create("mer_01JD3Z5Y1B2C3D4E5F6G7H8J9K", "app_01JD3Z5Y1B2C3D4E5F6G7H8J9K", ["orders:read"], NOW)
    install.uninstall(NOW)
    with pytest.raises(ValueError):
        install.grant(["orders:read"], NOW)


def code(**changes) -> AuthorizationCode:
    values = dict(app_id="app_1", merchant_id="mer_1", install_id="ins_1", redirect_uri="https://app.example/cb",
                  scopes=("orders:read",), code_challenge=pkce_s256("v" * 43), expires_at=NOW + timedelta(seconds=60),
                  used_at=None, family_id=None)
    return AuthorizationCode(**{**values, **changes})


@pytest.mark.parametrize(("stored", "presented", "reason"), [
    ({}, {"client_id": "app_2"}, "another client"),
    ({}, {"redirect_uri": "https://app.example/cb/"}, "redirect_uri"),
    ({}, {"code_verifier": "w" * 43}, "code_verifier"),
    ({"expires_at": NOW}, {}, "expired"),
])
def test_a_code_buys_a_token_only_for_its_client_redirect_and_verifier_before_it_expires(stored, presented, reason):
    good = {"client_id": "app_1", "redirect_uri": "https://app.example/cb", "code_verifier": "v" * 43, "now": NOW}
    code().redeem(**good)  # the rightful exchange passes
    request = {**good, **presented}
    with pytest.raises(OAuthError) as refused:
        code(**stored).redeem(**request)
    assert refused.value.error == "invalid_grant" and reason in refused.value.description


def test_a_used_code_is_a_replay_naming_the_family_to_revoke():
    with pytest.raises(CodeReplayed) as replay:
        code(used_at=NOW, family_id="fam").redeem(client_id="app_1", redirect_uri="https://app.example/cb",
                                                   code_verifier="v" * 43, now=NOW)
    assert replay.value.family_id == "fam"


def test_a_used_refresh_token_is_a_reuse_naming_its_family():
    token = RefreshToken(family_id="fam", app_id="app_1", merchant_id="mer_1", install_id="ins_1",
                         scopes=("orders:read",), expires_at=NOW + timedelta(days=1), used_at=NOW, revoked_at=None)
    with pytest.raises(RefreshTokenReused) as reuse:
        token.rotate(client_id="app_1", now=NOW)
    assert reuse.value.family_id == "fam"
