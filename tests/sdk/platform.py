"""What the platform and a merchant's browser do around a plugin, for the SDK tests: create
merchants, register apps (admin key), and approve an install on Flint's HTML pages."""

from __future__ import annotations

from typing import Any

import httpx

from tests.installs.support import hidden_fields
from tests.sdk.served import FlintServices

REDIRECT_URI = "https://plugin.example/oauth/callback"


def create_merchant(flint: FlintServices, name: str = "Acme Outdoor") -> dict[str, Any]:
    response = httpx.post(f"{flint.installs_url}/v1/merchants", json={"name": name},
                          headers={"Authorization": f"Bearer {flint.admin_key}"})
    assert response.status_code == 201, response.text
    return response.json()


def register_app(flint: FlintServices, scopes: list[str], name: str = "Balance Chaser") -> dict[str, Any]:
    body = {"name": name, "redirect_uris": [REDIRECT_URI], "scopes": scopes}
    response = httpx.post(f"{flint.installs_url}/v1/apps", json=body,
                          headers={"Authorization": f"Bearer {flint.admin_key}"})
    assert response.status_code == 201, response.text
    return response.json()


def approve_in_browser(flint: FlintServices, authorize_url: str, secret_key: str) -> str:
    """The merchant opens the authorize URL, logs in, approves; returns where Flint redirects."""
    with httpx.Client(base_url=flint.installs_url) as browser:
        login = browser.get(authorize_url)
        assert login.status_code == 200 and 'name="secret_key"' in login.text, login.text
        logged_in = browser.post("/oauth/login", data={**hidden_fields(login.text), "secret_key": secret_key})
        assert logged_in.status_code == 303, logged_in.text
        consent = browser.get(logged_in.headers["location"])
        assert consent.status_code == 200 and 'value="approve"' in consent.text, consent.text
        approved = browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "approve"})
        assert approved.status_code == 303, approved.text
        return approved.headers["location"]


def order_body(**overrides: Any) -> dict[str, Any]:
    """2 mugs at 10.00 + 3.80 tax + 5.00 shipping = 28.80 EUR unless told otherwise."""
    body: dict[str, Any] = {
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "currency": "EUR",
        "line_items": [{"title": "Mug", "sku": "MUG-1", "quantity": 2,
                        "unit_price": {"amount": 1000, "currency": "EUR"}, "tax": {"amount": 380, "currency": "EUR"}}],
        "shipping": {"amount": 500, "currency": "EUR"},
    }
    return body | overrides
