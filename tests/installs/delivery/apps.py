"""Installed apps for the delivery tests, through the real install flow: the app's token, and
calls to the webhook endpoints API with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.installs.support import Flint


@dataclass
class InstalledApp:
    flint: Flint
    merchant: dict[str, Any]
    app: dict[str, Any]
    install_id: str
    token: str

    @property
    def app_id(self) -> str:
        return self.app["id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return await self.flint.http.request(method, path, headers=headers, **kwargs)

    async def create_endpoint(self, url: str) -> dict[str, Any]:
        response = await self.call("POST", "/v1/webhook-endpoints", json={"url": url})
        assert response.status_code == 201, response.text
        return response.json()


async def install_app(flint: Flint, scopes: list[str], *, merchant: dict[str, Any] | None = None,
                      app: dict[str, Any] | None = None, scope: str | None = None) -> InstalledApp:
    """``app`` (registered with ``scopes`` unless given) installed by ``merchant`` (new unless
    given), granting ``scope`` (all of the app's scopes by default)."""
    merchant = merchant or await flint.create_merchant()
    app = app or await flint.register_app(scopes=scopes)
    tokens = await flint.install(merchant, app, scope=scope)
    install = (await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))).json()
    return InstalledApp(flint, merchant, app, install["id"], tokens["access_token"])
