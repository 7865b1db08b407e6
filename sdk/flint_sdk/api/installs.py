"""Installs service calls (docs/installs.md): an app's own install; a merchant's installs."""

from __future__ import annotations

from flint_sdk.api.operation import Operation, model, new_idempotency_key, page_of, path
from flint_sdk.models import Install, Page

SERVICE = "installs"


def own() -> Operation[Install]:
    return Operation("GET", SERVICE, "/v1/install", model(Install))


def list_(*, status: str | None = None, limit: int | None = None,
          starting_after: str | None = None) -> Operation[Page[Install]]:
    return Operation("GET", SERVICE, "/v1/installs", page_of(Install),
                     params={"status": status, "limit": limit, "starting_after": starting_after},
                     cursor_param="starting_after")


def uninstall(install_id: str, *, idempotency_key: str | None = None) -> Operation[Install]:
    return Operation("POST", SERVICE, path("/v1/installs/{}/uninstall", install_id), model(Install),
                     idempotency_key=idempotency_key or new_idempotency_key())
