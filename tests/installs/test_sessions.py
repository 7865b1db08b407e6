"""Browser sessions and CSRF tokens of the OAuth pages (signed with itsdangerous)."""

from __future__ import annotations

from fastapi import Response

from flint_contracts.ids import new_id
from flint_chassis.service_secret import ServiceSecret
from flint_installs.domain import AuthorizationRequest
from flint_installs.sessions import SESSION_COOKIE, BrowserSessions

SECRET = ServiceSecret("s" * 40, service="installs")
REQUEST = AuthorizationRequest(client_id=new_id("app"), redirect_uri="https://plugin.test/cb", response_type="code",
                               state="abc", code_challenge="x" * 43, code_challenge_method="S256")


def started(sessions: BrowserSessions) -> tuple[str, str]:
    response = Response()
    merchant_id = new_id("mer")
    sessions.start(response, merchant_id)
    cookie = response.headers["set-cookie"].split(f"{SESSION_COOKIE}=", 1)[1].split(";", 1)[0]
    return merchant_id, cookie


def test_a_session_cookie_reads_back_as_the_merchant_who_logged_in() -> None:
    sessions = BrowserSessions(SECRET, ttl=1800, secure=False)
    merchant_id, cookie = started(sessions)
    session = sessions.read(cookie)
    assert session is not None and session.merchant_id == merchant_id


def test_a_tampered_expired_or_foreign_cookie_is_no_session() -> None:
    sessions = BrowserSessions(SECRET, ttl=1800, secure=False)
    _, cookie = started(sessions)
    assert sessions.read(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert BrowserSessions(SECRET, ttl=-1, secure=False).read(cookie) is None  # older than its lifetime
    assert BrowserSessions(ServiceSecret("t" * 40, service="installs"), ttl=1800, secure=False).read(cookie) is None
    assert sessions.read("") is None and sessions.read("not.a.cookie") is None


def test_a_consent_token_is_bound_to_its_session_and_request() -> None:
    sessions = BrowserSessions(SECRET, ttl=1800, secure=False)
    session = sessions.read(started(sessions)[1])
    other = sessions.read(started(sessions)[1])
    token = sessions.consent_token(session, REQUEST)
    assert sessions.consent_token_valid(session, REQUEST, token)
    assert not sessions.consent_token_valid(other, REQUEST, token)
    assert not sessions.consent_token_valid(session, AuthorizationRequest(**{**REQUEST.params(), "state": "x"}), token)
    assert not sessions.login_token_valid(session.session_id, REQUEST, token)  # one purpose per token
