"""The demo's merchant and the example plugins' apps: registered, installed by the merchant
through the real OAuth flow with PKCE (flint_sdk.InstallFlow), each with its Kafka credential
from the installs API. What each plugin needs to run is written to
``<state>/plugins/<name>.env`` (and its refresh tokens to ``<name>.tokens.json``), where
``deploy/stack.py`` finds it to start the plugin."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.demo import browser
from flint_sdk import InstallFlow, kafka_credential

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / os.environ.get("FLINT_STATE_DIR", ".flint")
PLUGINS_DIR = STATE / "plugins"
MERCHANT_FILE = STATE / "demo" / "merchant.json"


@dataclass(frozen=True)
class ExamplePlugin:
    name: str
    title: str
    scopes: tuple[str, ...]


EXAMPLES = (
    ExamplePlugin("balance-chaser", "Balance Chaser", ("orders:read", "orders:write", "invoices:read", "invoices:write")),
    ExamplePlugin("refund-desk", "Refund Desk", ("orders:read", "orders:write", "refunds:read", "refunds:write")),
)


def _admin(method: str, path: str, **json_body: object) -> dict:
    response = httpx.request(method, os.environ["FLINT_INSTALLS_URL"] + path, json=json_body, timeout=30,
                             headers={"Authorization": f"Bearer {os.environ['FLINT_ADMIN_KEY']}"})
    response.raise_for_status()
    return response.json()


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text)
    path.chmod(0o600)


def merchant(say) -> dict:
    """The demo's merchant, made once and kept under the state folder."""
    if MERCHANT_FILE.exists():
        return json.loads(MERCHANT_FILE.read_text())
    made = _admin("POST", "/v1/merchants", name="Acme Outdoor")
    _private(MERCHANT_FILE, json.dumps({"id": made["id"], "name": made["name"], "secret_key": made["secret_key"]}))
    say(f"Registered merchant {made['name']} ({made['id']}).")
    return json.loads(MERCHANT_FILE.read_text())


def install_example(example: ExamplePlugin, shop: dict, say) -> None:
    """Registers the app, installs it on ``shop`` (OAuth + PKCE), makes its Kafka credential."""
    installs_url = os.environ["FLINT_INSTALLS_URL"]
    redirect_uri = f"https://{example.name}.plugin.example/oauth/callback"
    app = _admin("POST", "/v1/apps", name=example.title, redirect_uris=[redirect_uri], scopes=list(example.scopes))
    say(f"Registered app {example.title} ({app['id']}) asking for {' '.join(example.scopes)}.")
    flow = InstallFlow(installs_url, app["client_id"], app["client_secret"], redirect_uri)
    try:
        pending = flow.start(list(example.scopes))
        tokens = flow.finish(pending, browser.approve(installs_url, pending.authorize_url, shop["secret_key"]))
    finally:
        flow.close()
    say(f"  {shop['name']} approved it on Flint's consent page (OAuth code flow with PKCE S256); "
        f"tokens for scopes {tokens.scope}.")
    credential = kafka_credential(installs_url, app["client_id"], app["client_secret"])
    say(f"  Kafka credential from POST /v1/apps/{app['id']}/kafka-credential: reads {credential.topic}.")
    tokens_file = PLUGINS_DIR / f"{example.name}.tokens.json"
    _private(tokens_file, json.dumps({shop["id"]: tokens.refresh_token}))
    settings = {"FLINT_APP_ID": app["client_id"], "FLINT_CLIENT_SECRET": app["client_secret"],
                "FLINT_INSTALLS_URL": installs_url, "FLINT_KAFKA_PASSWORD": credential.password,
                "FLINT_KAFKA_PLUGIN_BOOTSTRAP": credential.bootstrap_servers, "FLINT_PLUGIN_TOKENS": str(tokens_file)}
    _private(PLUGINS_DIR / f"{example.name}.env", "".join(f"{k}={v}\n" for k, v in settings.items()))


def install_all(say) -> None:
    shop = merchant(say)
    for example in EXAMPLES:
        if not (PLUGINS_DIR / f"{example.name}.env").exists():
            install_example(example, shop, say)


def app_id_of(name: str) -> str:
    settings = dict(line.split("=", 1) for line in (PLUGINS_DIR / f"{name}.env").read_text().splitlines() if "=" in line)
    return settings["FLINT_APP_ID"]
