"""Everything one fault test runs, of its own: a Kafka broker (tests/support/kafka_broker.py), a
PostgreSQL cluster (tests/support/postgres_cluster.py), optional TCP proxies in front of them
(tests/support/tcp_proxy.py), and the four services as processes (installs, orders, refunds,
invoicing), each ``--role all`` or, with ``replicas=2``, two ``api`` and two ``worker``
processes sharing consumer groups and the outbox. Never the shared test stack: these servers
are stopped, paused and cut.

A merchant gets a token from installs (client_credentials, as a merchant's backend would) and
installs one app through the consent pages; the test reads the app's topic
``flint.app.<app_id>.v1`` from outside, and the app's one webhook endpoint points at a receiver
of the test's own (tests/faults/webhooks.py). Invoice mail goes to an SMTP sink of the test's
own (``flint_invoicing.mailsink``), never the shared one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flint_chassis.config import with_database
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import app_topic
from flint_invoicing import mailsink
from tests.faults.processes import ServiceProcess
from tests.faults.webhooks import WebhookReceiver, install_through_consent
from tests.support.kafka_broker import KafkaBroker
from tests.support.ports import free_port
from tests.support.postgres_cluster import PostgresCluster
from tests.support.tcp_proxy import TcpProxy

SERVICES = ("installs", "orders", "refunds", "invoicing")
SANDBOX_DB = "flint_sandbox"
SCOPES = "orders:read orders:write refunds:read refunds:write invoices:read invoices:write"
# Short delays, so a healed fault is caught up within seconds, and no rate limit on one token.
FAST = {
    "FLINT_LOG_LEVEL": "WARNING", "OUTBOX_POLL_INTERVAL": "0.2", "CONSUMER_RETRY_BACKOFF": "0.05",
    "CONSUMER_INFRA_BACKOFF_MAX": "1.0", "CONSUMER_REDRIVE_INTERVAL": "0.2", "CONSUMER_PARK_DELAYS": "[0.2, 0.5, 1, 2, 5]",
    "RATE_LIMIT_WRITE_PER_SECOND": "100000", "RATE_LIMIT_WRITE_BURST": "100000",
    "RATE_LIMIT_READ_PER_SECOND": "100000", "RATE_LIMIT_READ_BURST": "100000",
    "FLINT_REFUNDS_POLL_INTERVAL": "0.2", "FLINT_REFUNDS_RETRY_BACKOFF": "0.2", "FLINT_REFUNDS_RETRY_BACKOFF_MAX": "2",
    "FLINT_REFUNDS_LEASE_SECONDS": "3", "FLINT_SANDBOX_DATABASE": SANDBOX_DB, "DB_POOL_MIN": "1", "DB_POOL_MAX": "8",
    # webhooks to the test's receiver on 127.0.0.1; a delivery cut short by a fault is sent
    # again within seconds (lease, first retry), not after the production minutes
    "FLINT_WEBHOOKS_ALLOW_LOOPBACK": "true", "FLINT_WEBHOOKS_CONNECT_TIMEOUT": "1", "FLINT_WEBHOOKS_TOTAL_TIMEOUT": "3",
    "FLINT_WEBHOOKS_CLAIM_LEASE": "5", "FLINT_WEBHOOKS_RETRY_FIRST_DELAY": "1", "FLINT_WEBHOOKS_RETRY_MAX_DELAY": "2",
    "FLINT_WEBHOOKS_POLL_INTERVAL": "0.2", "FLINT_SMTP_STARTTLS": "false",
}
REDIRECT_URI = "https://faults.example/cb"


@dataclass
class FaultStack:
    replicas: int = 1
    proxy_kafka: bool = False
    proxy_postgres: bool = False
    kafka: KafkaBroker | None = field(init=False, default=None)
    postgres: PostgresCluster | None = field(init=False, default=None)
    kafka_proxy: TcpProxy | None = field(init=False, default=None)
    postgres_proxy: TcpProxy | None = field(init=False, default=None)
    processes: dict[str, list[ServiceProcess]] = field(init=False, default_factory=dict)
    logs: Path = field(init=False, repr=False)
    mail_sink: asyncio.Server | None = field(init=False, default=None, repr=False)
    webhooks: WebhookReceiver = field(init=False, default_factory=WebhookReceiver)
    merchant_id: str = field(init=False, default="")
    token: str = field(init=False, default="")
    app_id: str = field(init=False, default="")

    # --- servers -------------------------------------------------------------------------------

    async def __aenter__(self) -> FaultStack:
        """Starts everything; whatever did start is stopped again when something fails."""
        try:
            await self._start_all()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _start_all(self) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="flint-faults-"))
        advertised = free_port() if self.proxy_kafka else None

        def postgres() -> None:
            self.postgres = PostgresCluster(ports=os.environ.get("FLINT_TEST_FAULT_PG_PORTS", "20480-20499"))
            self.postgres.start()

        def kafka() -> None:
            self.kafka = KafkaBroker(advertised_port=advertised)
            self.kafka.start()

        await asyncio.gather(asyncio.to_thread(postgres), asyncio.to_thread(kafka))
        if self.proxy_kafka:
            self.kafka_proxy = TcpProxy(self.kafka.port, port=advertised)
            await self.kafka_proxy.start()
        if self.proxy_postgres:
            self.postgres_proxy = TcpProxy(self.postgres.port)
            await self.postgres_proxy.start()
        admin_key = "flint_admin_" + secrets.token_urlsafe(24)
        installs_port, smtp_port = free_port(), free_port()
        self.mail_sink = await mailsink.serve(self.logs / "mail", "127.0.0.1", smtp_port)
        common = {**FAST, "DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
                  "FLINT_KAFKA_PLUGIN_BOOTSTRAP": f"127.0.0.1:{self.kafka.plugin_port}",
                  "FLINT_INSTALLS_URL": f"http://127.0.0.1:{installs_port}", "FLINT_ADMIN_KEY": admin_key,
                  "FLINT_SMTP_HOST": "127.0.0.1", "FLINT_SMTP_PORT": str(smtp_port)}
        for name in SERVICES:
            env = {**common, f"FLINT_{name.upper()}_SECRET": secrets.token_urlsafe(40)}
            roles = ["all"] if self.replicas == 1 else ["api"] * self.replicas + ["worker"] * self.replicas
            self.processes[name] = [
                ServiceProcess(name, role, installs_port if name == "installs" and n == 0 else free_port(), env,
                               self.logs, label=f"{name}-{role}-{n}")
                for n, role in enumerate(roles)]
        # installs first (the others fetch its keys), then the rest side by side
        await self._start(self.processes["installs"])
        await asyncio.gather(*(self._start(self.processes[n]) for n in SERVICES[1:]))
        await self._merchant_and_app(admin_key)

    @property
    def database_url(self) -> str:
        """What the services connect to: the proxy in front of PostgreSQL when there is one."""
        port = self.postgres_proxy.port if self.postgres_proxy else self.postgres.port
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def direct_database(self, name: str) -> str:
        """The test's own way to a database (never through the proxy)."""
        return with_database(self.postgres.url, name)

    @staticmethod
    async def _start(processes: list[ServiceProcess]) -> None:
        for process in processes:
            process.start()
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready) for p in processes))

    async def restart(self, process: ServiceProcess) -> None:
        process.start()
        await asyncio.to_thread(process.wait_ready)

    async def stop(self) -> None:
        """Stops whatever runs (also after a start that failed half way)."""
        await asyncio.gather(*(asyncio.to_thread(p.stop) for ps in self.processes.values() for p in ps))
        await self.webhooks.close()
        if self.mail_sink is not None:
            self.mail_sink.close()
        for proxy in (self.kafka_proxy, self.postgres_proxy):
            if proxy is not None:
                await proxy.stop()
        if self.kafka is not None:
            self.kafka.remove()
        if self.postgres is not None:
            self.postgres.remove()
        if not hasattr(self, "logs"):
            return
        if os.environ.get("FLINT_FAULTS_KEEP_LOGS"):
            print(f"fault stack logs kept in {self.logs}")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)

    def api(self, name: str) -> list[ServiceProcess]:
        """The processes of ``name`` that answer its HTTP API."""
        return [p for p in self.processes[name] if p.role in ("all", "api")]

    def logs_of(self, name: str) -> str:
        return "\n".join(f"--- {p.label}\n{p.tail(60)}" for p in self.processes[name])

    # --- the merchant and its app --------------------------------------------------------------

    async def _merchant_and_app(self, admin_key: str) -> None:
        installs = self.api("installs")[0].url
        async with httpx.AsyncClient(base_url=installs, timeout=30,
                                     headers={"Authorization": f"Bearer {admin_key}"}) as client:
            merchant = (await client.post("/v1/merchants", json={"name": "Faults"})).raise_for_status().json()
            app = (await client.post("/v1/apps", json={"name": "Faults", "redirect_uris": [REDIRECT_URI],
                                                       "scopes": ["orders:read"]})).raise_for_status().json()
        async with httpx.AsyncClient(base_url=installs, timeout=30) as client:
            token = await client.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": merchant["id"],
                "client_secret": merchant["secret_key"], "scope": SCOPES})
            token.raise_for_status()
        self.merchant_id, self.app_id, self.token = merchant["id"], app["id"], token.json()["access_token"]
        await ensure_topics(self.kafka.bootstrap, [app_topic(self.app_id)])
        # the endpoint exists before the first order: every order event is queued for it
        app_token = await install_through_consent(installs, merchant, app, REDIRECT_URI)
        await self.webhooks.start(installs, app_token)
