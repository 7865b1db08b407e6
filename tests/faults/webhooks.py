"""The fault stack's app as a plugin receiving webhooks: it installs the app through the real
consent flow (the app's own token is what the endpoints API takes), registers one endpoint on a
local receiver (tests/installs/delivery/receiver.py: it verifies every signature with the SDK
and answers 400 to one that does not verify), and keeps what arrived, in arrival order.

What a plugin would notice is counted by the ledger (tests/faults/ledger.py): order events on
the app's topic that never came by webhook, and an order's webhooks out of sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tests.installs.delivery.receiver import Receiver, start_receiver
from tests.installs.support import Authorization, basic, hidden_fields, query_of

PATH = "/verified/faults"


async def install_through_consent(installs_url: str, merchant: dict[str, Any], app: dict[str, Any],
                                  redirect_uri: str) -> str:
    """The merchant logs in, approves the app, the app exchanges the code: the app's access token."""
    auth = Authorization(app["client_id"], redirect_uri=redirect_uri)
    async with httpx.AsyncClient(base_url=installs_url, timeout=30) as browser:
        page = (await browser.get(auth.url())).raise_for_status()
        login = await browser.post("/oauth/login",
                                   data={**hidden_fields(page.text), "secret_key": merchant["secret_key"]})
        assert login.status_code == 303, login.text
        consent = (await browser.get(login.headers["location"])).raise_for_status()
        decided = await browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "approve"})
        assert decided.status_code == 303, decided.text
        tokens = await browser.post("/oauth/token", headers=basic(app["client_id"], app["client_secret"]), data={
            "grant_type": "authorization_code", "code": query_of(decided.headers["location"])["code"],
            "redirect_uri": redirect_uri, "code_verifier": auth.verifier})
        return tokens.raise_for_status().json()["access_token"]


@dataclass
class WebhookReceiver:
    """One endpoint of the app's install, on a receiver of the test's own."""

    receiver: Receiver | None = None
    endpoint_id: str = ""
    _parsed: list[dict] = field(default_factory=list, repr=False)

    async def start(self, installs_url: str, app_token: str) -> None:
        self.receiver = await start_receiver()
        async with httpx.AsyncClient(base_url=installs_url, timeout=30,
                                     headers={"Authorization": f"Bearer {app_token}"}) as client:
            created = await client.post("/v1/webhook-endpoints", json={"url": self.receiver.url(PATH)},
                                        headers={"Idempotency-Key": "faults-endpoint"})
        endpoint = created.raise_for_status().json()
        self.endpoint_id = endpoint["id"]
        self.receiver.secrets[PATH] = [endpoint["secret"]]

    async def close(self) -> None:
        if self.receiver is not None and self.receiver.server is not None:
            await self.receiver.close()

    def deliveries(self) -> list[dict]:
        """Every delivery answered 200 (signature verified), as JSON, in the order they arrived."""
        accepted = self.receiver.accepted
        self._parsed += [orjson.loads(r.body) for r in accepted[len(self._parsed):]]
        return self._parsed

    def unverified(self) -> int:
        """Deliveries whose signature did not verify with the endpoint's secret (answered 400)."""
        return len(self.receiver.refused)
