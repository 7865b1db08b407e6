"""A test driver for the installs service: the verbs a merchant, a partner and an app use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
import jwt
from aiokafka import AIOKafkaConsumer, TopicPartition

from flint_contracts.envelope import EventEnvelope
from flint_installs.config import InstallsSettings
from flint_installs.context import ServiceContext

ADMIN_KEY = "flint_admin_test_" + secrets.token_urlsafe(24)
SERVICE_SECRET = secrets.token_urlsafe(40)
REDIRECT_URI = "https://app.example/oauth/callback"


def settings_for(server_url: str, database_url: str, kafka_bootstrap: str, **overrides: Any) -> InstallsSettings:
    values: dict[str, Any] = dict(
        database_url=server_url, database_name=database_url.rsplit("/", 1)[1],
        kafka_bootstrap_servers=kafka_bootstrap, admin_key=ADMIN_KEY, secret=SERVICE_SECRET,
        installs_url="http://installs.test", db_pool_min=1, db_pool_max=10, outbox_poll_interval=0.2,
        orders_url="http://orders.test",
        # Event delivery (router, webhooks, apps' Kafka access) is tested on its own, in
        # tests/installs/delivery; elsewhere the service only publishes its own events.
        deliver_events=False, consumer_group_prefix=f"{database_url.rsplit('/', 1)[1]}.",
    )
    values.update(overrides)
    return InstallsSettings(**values)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    raw = f"{client_id}:{client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}})
        elif tag == "input" and self.forms and a.get("name") and a.get("type") == "hidden":
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's (only) form."""
    parser = _Forms()
    parser.feed(html)
    assert len(parser.forms) == 1, f"expected one form, found {len(parser.forms)}"
    return parser.forms[0]["fields"]


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


@dataclass
class Authorization:
    """An authorization request as an app builds it (client side of PKCE and state)."""

    client_id: str
    redirect_uri: str = REDIRECT_URI
    scope: str | None = None
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    verifier: str = ""
    challenge: str = ""

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()

    def params(self, **changes: str | None) -> dict[str, str]:
        values = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "state": self.state, "code_challenge": self.challenge, "code_challenge_method": "S256"}
        if self.scope is not None:
            values["scope"] = self.scope
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}

    def url(self, **changes: str | None) -> str:
        return "/oauth/authorize?" + urlencode(self.params(**changes))


class Flint:
    """Drives one in-process installs service through its HTTP API."""

    def __init__(self, client: httpx.AsyncClient, context: ServiceContext) -> None:
        self.http = client
        self.context = context
        self.settings: InstallsSettings = context.settings
        self.pool: asyncpg.Pool = context.pool
        self.login_response: httpx.Response | None = None
        self.app: Any = None  # the ASGI app, for tests that serve it over a real socket

    # ---------------------------------------------------------- platform admin
    async def create_merchant(self, name: str = "Acme Outdoor") -> dict[str, Any]:
        response = await self.http.post("/v1/merchants", json={"name": name}, headers=self.admin())
        assert response.status_code == 201, response.text
        return response.json()

    async def register_app(self, name: str = "Refund Helper", scopes: list[str] | None = None,
                           redirect_uris: list[str] | None = None) -> dict[str, Any]:
        body = {"name": name, "redirect_uris": redirect_uris or [REDIRECT_URI],
                "scopes": scopes or ["orders:read", "refunds:read", "refunds:write"]}
        response = await self.http.post("/v1/apps", json=body, headers=self.admin())
        assert response.status_code == 201, response.text
        return response.json()

    @staticmethod
    def admin() -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_KEY}"}

    # ---------------------------------------------------------- the browser part
    async def log_in(self, auth: Authorization, secret_key: str) -> httpx.Response:
        """From the authorize URL through the login form; returns the consent page."""
        self.http.cookies.clear()
        page = await self.http.get(auth.url())
        assert page.status_code == 200 and 'name="secret_key"' in page.text, page.text
        form = hidden_fields(page.text)
        response = await self.http.post("/oauth/login", data={**form, "secret_key": secret_key})
        assert response.status_code == 303, response.text
        self.login_response = response
        consent = await self.http.get(response.headers["location"])
        assert consent.status_code == 200 and 'value="approve"' in consent.text, consent.text
        return consent

    async def decide(self, consent: httpx.Response, decision: str = "approve", **changes: str) -> httpx.Response:
        form = {**hidden_fields(consent.text), **changes, "decision": decision}
        return await self.http.post("/oauth/authorize", data=form)

    async def approve(self, merchant: dict[str, Any], auth: Authorization) -> str:
        """The merchant logs in and approves; returns the code from the redirect."""
        consent = await self.log_in(auth, merchant["secret_key"])
        response = await self.decide(consent)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.startswith(auth.redirect_uri + "?"), location
        query = query_of(location)
        assert query["state"] == auth.state
        return query["code"]

    # ---------------------------------------------------------- the app's backend
    async def token(self, data: dict[str, str], client_id: str, client_secret: str) -> httpx.Response:
        return await self.http.post("/oauth/token", data=data, headers=basic(client_id, client_secret))

    async def exchange(self, app: dict[str, Any], code: str, auth: Authorization, **changes: str) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": auth.redirect_uri,
                "code_verifier": auth.verifier, **changes}
        return await self.token(data, app["client_id"], app["client_secret"])

    async def refresh(self, app: dict[str, Any], refresh_token: str) -> httpx.Response:
        return await self.token({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                app["client_id"], app["client_secret"])

    async def install(self, merchant: dict[str, Any], app: dict[str, Any], scope: str | None = None) -> dict[str, Any]:
        """The whole install; returns the token response."""
        auth = Authorization(app["client_id"], scope=scope)
        code = await self.approve(merchant, auth)
        response = await self.exchange(app, code, auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def merchant_token(self, merchant: dict[str, Any]) -> str:
        response = await self.token({"grant_type": "client_credentials"}, merchant["id"], merchant["secret_key"])
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def sign(self, claims: dict[str, Any]) -> str:
        """A token signed with the service's real current key (to forge expiry or audience)."""
        key = await self.context.keys.signing_key()
        return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})

    # ---------------------------------------------------------- what is stored
    async def snapshot(self) -> dict[str, Any]:
        """Everything an attack must not change (the outbox without the relay's published_at)."""
        queries = {
            "installs": "SELECT * FROM installs ORDER BY id",
            "authorization_codes": "SELECT * FROM authorization_codes ORDER BY code_hash",
            "refresh_tokens": "SELECT * FROM refresh_tokens ORDER BY token_hash",
            "revoked_access_tokens": "SELECT * FROM revoked_access_tokens ORDER BY jti",
            "merchants": "SELECT * FROM merchants ORDER BY id",
            "apps": "SELECT * FROM apps ORDER BY id",
            "events": "SELECT event_id, topic, key, payload FROM flint_outbox ORDER BY position",
        }
        return {name: [dict(r) for r in await self.pool.fetch(sql)] for name, sql in queries.items()}


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """The partitions of an existing topic, for a started consumer that subscribed to nothing."""
    for _ in range(100):
        if partitions := consumer.partitions_for_topic(topic):
            return partitions
        await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client knows no topics yet
    raise AssertionError(f"topic {topic} has no partitions")


class TopicWatcher:
    """Reads what a topic receives from now on (starts at the end of every partition)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self._topic = topic
        self.events: list[EventEnvelope] = []

    async def __aenter__(self) -> TopicWatcher:
        await self._consumer.start()
        partitions = [TopicPartition(self._topic, p) for p in await partitions_of(self._consumer, self._topic)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self._consumer.position(partition)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def wait_for(self, match: Callable[[EventEnvelope], bool], timeout: float = 20.0) -> list[EventEnvelope]:
        """The events seen so far that ``match``, once there is at least one (others may share the topic)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (matching := [e for e in self.events if match(e)]):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events seen: {[(e.type, e.subject) for e in self.events]}")
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.events.extend(EventEnvelope.from_bytes(r.value) for r in records)
        return matching
