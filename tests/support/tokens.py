"""A stand-in token issuer for service tests that do not run the installs service.

It signs tokens exactly as docs/auth.md says and serves its JWKS through an httpx transport,
so ``flint_chassis.auth`` verifies them with its real code path. End-to-end tests use the
real installs service instead.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from flint_contracts.ids import new_id

ISSUER = "http://installs.test"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.current_kid = self.rotate()
        self.jwks_requests = 0

    def rotate(self) -> str:
        kid = f"k-{uuid.uuid4().hex[:8]}"
        self.keys[kid] = Ed25519PrivateKey.generate()
        self.current_kid = kid
        return kid

    def jwks(self) -> dict:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "EdDSA"})
        return {"keys": keys}

    @property
    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            if str(request.url) != JWKS_URL:
                return httpx.Response(404)
            self.jwks_requests += 1
            return httpx.Response(200, json=self.jwks())

        return httpx.MockTransport(handle)

    def token(
        self,
        merchant_id: str,
        scopes: str,
        *,
        install_id: str | None | bool = True,
        app_id: str | None = None,
        audience: list[str] | str = ("flint:orders", "flint:refunds", "flint:invoicing", "flint:installs"),
        expires_in: int = 900,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """An access token; ``install_id=True`` makes a fresh install (an app token)."""
        if install_id is True:
            install_id = new_id("ins")
        if install_id and app_id is None:
            app_id = new_id("app")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": install_id or merchant_id,
            "aud": list(audience) if not isinstance(audience, str) else audience,
            "merchant_id": merchant_id,
            "app_id": app_id if install_id else None,
            "install_id": install_id or None,
            "scope": scopes,
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
        }
        kid = kid or self.current_kid
        return jwt.encode(claims, key or self.keys[kid], algorithm="EdDSA", headers={"kid": kid})
