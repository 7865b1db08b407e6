"""Everything one installs process holds while it runs, built without connecting; ``start``
connects (database, migrations, topics, outbox relay, the event router), loads the signing
keys and, in a worker, starts the webhook sender and the loop that keeps apps' Kafka access
in line with their installs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from fastapi.templating import Jinja2Templates

from flint_chassis.auth import Authenticator
from flint_chassis.errors import StartupError
from flint_chassis.kafka_access import KafkaAccess
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.topics import INSTALLS_EVENTS
from flint_installs import handlers
from flint_installs.config import InstallsSettings
from flint_installs.delivery import router
from flint_installs.delivery.resolver import Resolver, SystemResolver
from flint_installs.delivery.service import WebhookDelivery
from flint_installs.kafka.sync import AppAccessSync
from flint_chassis.service_secret import MIN_SECRET_LENGTH, ServiceSecret
from flint_installs.keys import KeyRing
from flint_installs.sessions import BrowserSessions
from flint_installs.tokens import LocalVerifier, TokenIssuer

log = logging.getLogger("flint.installs")

MIGRATIONS = Path(__file__).parent / "migrations"
TEMPLATES = Path(__file__).parent / "templates"


class ServiceContext:
    def __init__(self, settings: InstallsSettings) -> None:
        self.settings = settings
        self.runtime = ServiceRuntime(settings, migrations=MIGRATIONS, produces=(INSTALLS_EVENTS,),
                                      subscriptions=router.subscriptions(settings.router_consumers)
                                      if settings.deliver_events else ())
        self.resolver: Resolver = SystemResolver()  # checks webhook URLs at creation (tests put their own)
        self._kafka_access: KafkaAccess | None = None
        self.access_sync: AppAccessSync | None = None
        self.webhooks: WebhookDelivery | None = None
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        self.authenticator = Authenticator(lambda: self.verifier)
        self.secret: ServiceSecret | None = None
        self.keys: KeyRing | None = None
        self.issuer: TokenIssuer | None = None
        self.verifier: LocalVerifier | None = None
        self.sessions: BrowserSessions | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self.runtime.pool is None:
            raise RuntimeError("the installs service is not started")
        return self.runtime.pool

    async def start(self) -> None:
        s = self.settings
        secret = s.secret.get_secret_value() if s.secret else ""
        if len(secret) < MIN_SECRET_LENGTH:
            raise StartupError(f"FLINT_INSTALLS_SECRET must be set to at least {MIN_SECRET_LENGTH} random characters "
                               "(`make up` generates one into .flint/stack.env)")
        if s.admin_key is None:
            log.warning("FLINT_ADMIN_KEY is not set: merchants cannot be created and apps cannot be registered")
        self.secret = ServiceSecret(secret, service="installs")
        self.sessions = BrowserSessions(self.secret, ttl=s.session_ttl, secure=s.secure_cookies)
        await self.runtime.start()
        try:
            ttl = timedelta(seconds=s.access_token_ttl)
            self.keys = KeyRing(self.pool, self.secret, rotation=timedelta(seconds=s.signing_key_rotation),
                                token_ttl=ttl, cache_seconds=s.key_cache_seconds)
            await self.keys.signing_key()  # the first start creates the first key
            self.issuer = TokenIssuer(self.keys, issuer=s.issuer, ttl=ttl)
            self.verifier = LocalVerifier(self.keys, self.pool, issuer=s.issuer)
            self.access_sync = AppAccessSync(self.pool, self.kafka_access, interval=s.kafka_access_interval)
            if s.deliver_events and s.runs_worker:
                self.webhooks = WebhookDelivery(self.pool, self.secret, s.webhooks)
                await self.webhooks.start()
                self.access_sync.start()
        except BaseException:
            await self._stop_delivery()
            await self.runtime.stop()
            raise
        self._housekeeping = asyncio.create_task(self._keep_house(), name="installs-housekeeping")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
            self._housekeeping = None
        await self._stop_delivery()
        self.verifier = None
        await self.runtime.stop()

    async def _stop_delivery(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.stop()
            self.webhooks = None
        if self.access_sync is not None:
            await self.access_sync.stop()
        self._kafka_access = None

    def kafka_access(self) -> KafkaAccess:
        """The broker's admin calls for apps' credentials, ACLs and topics, made on first use.
        App topics keep events as long as the event feed does."""
        if self._kafka_access is None:
            s = self.settings
            retention_ms = s.event_feed_days * 86400 * 1000
            self._kafka_access = KafkaAccess(s.kafka_bootstrap_servers, s.kafka_plugin_bootstrap,
                                             timeout=s.kafka_admin_timeout, topic_partitions=s.topic_partitions,
                                             topic_config={"retention.ms": str(retention_ms)})
        return self._kafka_access

    async def installs_changed(self, app_id: str) -> None:
        """After a request committed an install or an uninstall of ``app_id``: give the broker
        the app's new access now (the worker retries what does not get through)."""
        if self.settings.deliver_events and self.access_sync is not None:
            await self.access_sync.apply_now(app_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServiceContext]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def _keep_house(self) -> None:
        """Purge expired codes and tokens; rotate the signing key when due (idempotency keys
        are the chassis' to purge).

        A round that fails, for any reason, is logged and the next one runs on time: an
        outage or a bug in one purge must not stop key rotation for the life of the process."""
        while True:
            await asyncio.sleep(self.settings.housekeeping_interval)
            try:
                await self.keep_house_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("housekeeping failed: %s; next try in %.0fs", error, self.settings.housekeeping_interval)
            except Exception:
                log.exception("housekeeping failed unexpectedly; next try in %.0fs",
                              self.settings.housekeeping_interval)

    async def keep_house_once(self) -> None:
        """One round of housekeeping."""
        await handlers.purge_expired(self.pool)
        await handlers.purge_delivery_history(self.pool, datetime.now(UTC) - timedelta(days=self.settings.event_feed_days))
        if self.keys is None:
            raise RuntimeError("the signing keys are not loaded")
        await self.keys.signing_key()
