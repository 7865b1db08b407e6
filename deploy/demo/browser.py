"""The merchant's side of an install, scripted over HTTP as tests/sdk does it: open the
authorize URL, log in on Flint's page with the merchant's secret key, approve on the consent
page, and hand back where Flint redirects the browser (the app's callback, with the code)."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx


class _HiddenFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields


def approve(installs_url: str, authorize_url: str, secret_key: str) -> str:
    """Logs in as the merchant and approves; the redirect to the app's callback."""
    with httpx.Client(base_url=installs_url, timeout=30) as browser:
        login = browser.get(authorize_url)
        login.raise_for_status()
        logged_in = browser.post("/oauth/login", data={**hidden_fields(login.text), "secret_key": secret_key})
        if logged_in.status_code != 303:
            raise RuntimeError(f"the login page refused the merchant's key: {logged_in.status_code}")
        consent = browser.get(logged_in.headers["location"])
        consent.raise_for_status()
        approved = browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "approve"})
        if approved.status_code != 303:
            raise RuntimeError(f"the consent page did not redirect: {approved.status_code}")
        return approved.headers["location"]
