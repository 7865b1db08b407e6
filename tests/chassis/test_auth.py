"""Token verification as every service does it: signature via JWKS, audience, expiry,
scopes, and the install projection that makes an uninstall take effect at once."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from flint_chassis import install_state
from flint_chassis.auth import Authenticator, InstallProjection, InvalidToken, JwksCache, Principal, TokenVerifier
from flint_chassis.consumer import Event
from flint_chassis.http.errors import install_problem_handlers
from flint_contracts import event_types as types
from flint_contracts.events import InstallData, build_envelope
from flint_contracts.ids import new_id
from tests.support.tokens import ISSUER, JWKS_URL, TestIssuer

pytestmark = pytest.mark.integration  # the install projection lives in PostgreSQL

MERCHANT = "mer_01KB0000000000000000000000"
APP = "app_01KB0000000000000000000000"


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def app(issuer: TestIssuer, pool) -> FastAPI:
    verifier = TokenVerifier(JwksCache(JWKS_URL, transport=issuer.transport, min_refresh_interval=0),
                             issuer=ISSUER, audience="flint:orders", installs=InstallProjection(pool))
    auth = Authenticator(lambda: verifier)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/orders")
    async def orders(principal: Principal = auth.require("orders:read")) -> dict:
        return {"merchant_id": principal.merchant_id, "actor": principal.actor, "scopes": sorted(principal.scopes)}

    return app


async def call(app: FastAPI, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://orders") as client:
        return await client.get("/v1/orders", headers=headers)


def install_event(type_: str, install_id: str, scopes=("orders:read",)) -> Event[InstallData]:
    """An install event as the installs service publishes it."""
    data = InstallData(install_id=install_id, app_id=APP, merchant_id=MERCHANT, scopes=list(scopes),
                       status="uninstalled" if type_ == types.INSTALL_UNINSTALLED else "active",
                       occurred_at=datetime.now(UTC))
    return Event(build_envelope(type_, data, source="flint.installs"), data)


async def project(pool, *events: Event[InstallData]) -> None:
    async with pool.acquire() as conn:
        for event in events:
            await install_state.record(conn, event)


async def uninstall(pool, install_id: str, scopes=("orders:read",)) -> None:
    await project(pool, install_event(types.INSTALL_CREATED, install_id, scopes),
                  install_event(types.INSTALL_UNINSTALLED, install_id, scopes))


async def test_a_valid_app_token_identifies_the_app_and_its_merchant(app, issuer):
    response = await call(app, issuer.token(MERCHANT, "orders:read refunds:read", app_id="app_01KB0000000000000000000000"))
    assert response.status_code == 200
    assert response.json() == {"merchant_id": MERCHANT, "actor": {"type": "app", "id": "app_01KB0000000000000000000000"},
                               "scopes": ["orders:read", "refunds:read"]}


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda i: None, "missing bearer token"),
        (lambda i: "not-a-jwt", "malformed token"),
        (lambda i: i.token(MERCHANT, "orders:read", expires_in=-60), "token expired"),
        (lambda i: i.token(MERCHANT, "orders:read", audience=["flint:refunds"]), "token is not for flint:orders"),
        (lambda i: i.token(MERCHANT, "orders:read", key=Ed25519PrivateKey.generate(), kid="k-forged"),
         "token signed by an unknown key"),
        (lambda i: i.token(MERCHANT, "orders:read", key=Ed25519PrivateKey.generate()), "invalid token: Signature verification failed"),
    ],
    ids=["missing", "garbage", "expired", "wrong-audience", "unknown-key", "forged-signature"],
)
async def test_a_bad_token_is_a_401_problem_saying_why(app, issuer, make_token, reason):
    response = await call(app, make_token(issuer))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == reason
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_a_token_without_the_scope_is_a_403(app, issuer):
    response = await call(app, issuer.token(MERCHANT, "refunds:read"))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_a_token_of_an_uninstalled_install_is_refused_before_it_expires(app, issuer, pool):
    install_id = new_id("ins")
    token = issuer.token(MERCHANT, "orders:read", install_id=install_id)
    assert (await call(app, token)).status_code == 200
    await uninstall(pool, install_id)
    response = await call(app, token)
    assert response.status_code == 401 and response.json()["detail"] == "the app was uninstalled"


async def test_an_older_install_event_never_undoes_an_uninstall(pool):
    install_id = new_id("ins")
    created = install_event(types.INSTALL_CREATED, install_id)
    await uninstall(pool, install_id)
    await project(pool, created)  # replayed late
    assert (await InstallProjection(pool).get(install_id))["status"] == "uninstalled"


async def test_a_rotated_key_is_fetched_on_first_sight(app, issuer):
    assert (await call(app, issuer.token(MERCHANT, "orders:read"))).status_code == 200
    issuer.rotate()
    assert (await call(app, issuer.token(MERCHANT, "orders:read"))).status_code == 200
    assert issuer.jwks_requests == 2


async def test_a_re_install_with_fewer_scopes_narrows_old_tokens_at_once(app, issuer, pool):
    install_id = new_id("ins")
    token = issuer.token(MERCHANT, "orders:read refunds:read", install_id=install_id)
    await project(pool, install_event(types.INSTALL_SCOPES_UPDATED, install_id, ["refunds:read"]))
    assert (await call(app, token)).status_code == 403


async def test_a_remembered_token_is_refused_once_its_key_is_no_longer_published(issuer, pool):
    # given a verifier that re-reads the key set on every lookup, and a token it accepted
    verifier = TokenVerifier(JwksCache(JWKS_URL, transport=issuer.transport, min_refresh_interval=0, max_age=0),
                             issuer=ISSUER, audience="flint:orders", installs=InstallProjection(pool))
    token = issuer.token(MERCHANT, "orders:read")
    assert (await verifier.verify(token)).merchant_id == MERCHANT
    # when the issuer withdraws that key (say it leaked)
    withdrawn = issuer.current_kid
    issuer.rotate()
    del issuer.keys[withdrawn]
    # then the token is refused although its claims were remembered and it has not expired
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(token)


async def test_a_verified_token_is_not_checked_against_the_key_set_again(issuer, pool):
    verifier = TokenVerifier(JwksCache(JWKS_URL, transport=issuer.transport), issuer=ISSUER,
                             audience="flint:orders", installs=InstallProjection(pool))
    token = issuer.token(MERCHANT, "orders:read")
    for _ in range(3):
        await verifier.verify(token)
    assert issuer.jwks_requests == 1
    assert await verifier.verified_claims(issuer.token(MERCHANT, "orders:read")) is None  # never seen
