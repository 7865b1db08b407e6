"""The platform's admin calls the CLI makes for a developer's own stack: a test merchant and
the developer's app (``POST /v1/merchants``, ``POST /v1/apps`` with the stack's admin key).
The SDK is for plugins, which never hold the admin key, so these two calls live here."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from flint_sdk.errors import error_from_response

TIMEOUT = 10.0


def create_merchant(installs_url: str, admin_key: str, name: str) -> dict[str, Any]:
    """A merchant and its secret key (shown in this answer only)."""
    return _post(installs_url, admin_key, "/v1/merchants", {"name": name})


def register_app(installs_url: str, admin_key: str, name: str, redirect_uri: str, scopes: list[str]) -> dict[str, Any]:
    """An app: its id is its client id; the client secret is in this answer only."""
    return _post(installs_url, admin_key, "/v1/apps", {"name": name, "redirect_uris": [redirect_uri], "scopes": scopes})


def _post(installs_url: str, admin_key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    # One key per call: a retry after a lost answer would replay, never make a second one.
    headers = {"Authorization": f"Bearer {admin_key}", "Idempotency-Key": secrets.token_urlsafe(24)}
    response = httpx.post(f"{installs_url}{path}", json=body, headers=headers, timeout=TIMEOUT)
    if response.is_error:
        raise error_from_response(response)
    return response.json()
