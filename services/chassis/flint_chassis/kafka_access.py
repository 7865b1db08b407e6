"""Kafka access for apps: each app's SASL/SCRAM-SHA-512 user and its ACLs on the broker.

Plugins connect to the broker's plugin listener (SASL_PLAINTEXT, SCRAM-SHA-512) as the user
named by their app id, and the broker's ACLs (KRaft ``StandardAuthorizer``, nothing allowed
without an ACL) let that user do exactly this:

- READ and DESCRIBE the topic ``flint.app.<app_id>.v1`` (literal pattern: that topic only);
- READ consumer groups whose id starts with the app id (prefixed pattern), e.g.
  ``app_01J….invoicer``. App ids have one fixed length, so one app's prefix can never be the
  start of another app's id.

Nothing else: no write, no other topic (internal ``flint.*.v1`` topics included), no
cluster operation. ``grant_read`` also creates the app's topic when missing: the app may not,
and a missing topic reads as "not authorized". This module talks to the internal listener, whose principal is a super
user, and is what the installs service calls when an app is installed, rotates its
credential, or is uninstalled.

Why confluent-kafka and not aiokafka: aiokafka 0.14's admin client has no ACL methods and no
AlterUserScramCredentials at all (its protocol module has only the old CreateAcls/
DescribeAcls/DeleteAcls request versions and nothing for SCRAM), so using it would mean
writing and maintaining Kafka wire-protocol structs by hand. confluent-kafka's
``AdminClient`` (librdkafka, maintained by Confluent, manylinux wheels for Python 3.11 with
librdkafka inside, no system library needed) implements CreateAcls, DescribeAcls,
DeleteAcls, AlterUserScramCredentials and DescribeUserScramCredentials. Its calls return
``concurrent.futures.Future`` objects completed by librdkafka's background thread; they are
awaited here through ``asyncio.wrap_future``, so nothing blocks the event loop. The
services keep aiokafka/FastStream for producing and consuming.

Passwords are made here (``secrets``), returned once in an ``AppCredential`` and never
logged: librdkafka salts and hashes them on the client (the broker stores only the SCRAM
hash), and ``AppCredential``'s repr hides the password.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from flint_contracts.ids import is_id
from flint_contracts.topics import app_topic

SCRAM_MECHANISM = "SCRAM-SHA-512"
# Kafka accepts 4096..16384 for SHA-512; each login costs the broker this many HMAC rounds.
# Rotations alternate between this and one more (see rotate_credential).
SCRAM_ITERATIONS = 8192
PASSWORD_BYTES = 32  # 43 URL-safe characters: no quote or backslash to escape in a JAAS line

_log = logging.getLogger("flint.kafka_access")


def new_password() -> str:
    """A random password (``PASSWORD_BYTES`` of entropy, URL-safe) that never starts with ``-``,
    so it can be pasted after a command-line option (``flint profile set kafka-password X``)."""
    while (password := secrets.token_urlsafe(PASSWORD_BYTES)).startswith("-"):
        pass
    return password


class KafkaAccessError(RuntimeError):
    """The broker refused or did not answer an access change; the message says which and why."""


class CredentialExists(KafkaAccessError):
    """``create_credential`` for an app that already has one: rotate it instead."""


class NoCredential(KafkaAccessError):
    """``rotate_credential`` for an app that has no credential yet: create one instead."""


@dataclass(frozen=True)
class AppCredential:
    """What an app needs to read its topic; the password is shown once and not kept."""

    username: str
    password: str = field(repr=False)
    bootstrap_servers: str
    topic: str
    group_prefix: str
    mechanism: str = SCRAM_MECHANISM
    security_protocol: str = "SASL_PLAINTEXT"


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL an app holds, in plain words: ``read`` on ``topic`` ``flint.app.….v1`` (``literal``)."""

    resource: str  # "topic" | "group" | anything else the broker reports, lower-case
    pattern: str  # "literal" | "prefixed"
    name: str
    operation: str  # "read" | "describe" | ...
    permission: str = "allow"


@dataclass(frozen=True)
class AppAccess:
    """What the broker holds for one app: whether it has a credential, and its ACLs."""

    app_id: str
    has_credential: bool
    grants: tuple[Grant, ...]


def principal(app_id: str) -> str:
    """The Kafka principal an app logs in as on the plugin listener."""
    return f"User:{app_id}"


def app_grants(app_id: str) -> tuple[Grant, ...]:
    """The ACLs ``grant_read`` gives an app, and the only ones it should ever hold."""
    return tuple(sorted((
        Grant("topic", "literal", app_topic(app_id), "read"),
        Grant("topic", "literal", app_topic(app_id), "describe"),
        Grant("group", "prefixed", app_id, "read"),
    )))


class KafkaAccess:
    """Creates, rotates and deletes apps' SCRAM credentials and grants or revokes their ACLs.

    ``bootstrap_servers`` is the internal listener (the services' own, a super user);
    ``plugin_bootstrap_servers`` is the address handed to apps with their credential.
    Each change returns once the broker answering the admin requests enforces it (it applies
    ACL and SCRAM records from its metadata log a few milliseconds after the controller
    commits them): after ``revoke_all`` returns, that broker refuses the app.
    """

    def __init__(
        self, bootstrap_servers: str, plugin_bootstrap_servers: str, *, timeout: float = 10.0, topic_partitions: int = 3,
        topic_config: dict[str, str] | None = None,
    ) -> None:
        """``topic_config`` is given to app topics ``grant_read`` creates (e.g. ``retention.ms``)."""
        self._plugin_bootstrap = plugin_bootstrap_servers
        self._timeout = timeout
        self._partitions = topic_partitions
        self._topic_config = dict(topic_config or {})
        self._admin = AdminClient({
            "bootstrap.servers": bootstrap_servers,
            "socket.timeout.ms": int(timeout * 1000),
            "logger": _log,
        })

    # ------------------------------------------------------------ credentials
    async def create_credential(self, app_id: str) -> AppCredential:
        """A new SCRAM user for the app with a random password; ``CredentialExists`` if it has one."""
        _check_app_id(app_id)
        if await self._iterations(app_id) is not None:
            raise CredentialExists(f"app {app_id} already has a Kafka credential: rotate it instead")
        return await self._set_password(app_id, SCRAM_ITERATIONS)

    async def rotate_credential(self, app_id: str) -> AppCredential:
        """A new password for the app: when this returns the new one logs in and the old one no
        longer does. Connections made with the old password stay up until the plugin
        listener's re-authentication interval (``connections.max.reauth.ms``) ends them."""
        _check_app_id(app_id)
        current = await self._iterations(app_id)
        if current is None:
            raise NoCredential(f"app {app_id} has no Kafka credential: create one first")
        # The broker shows a credential's iteration count but never its salt or hash, so each
        # rotation flips the count by one: seeing the new count tells the broker has the new password.
        return await self._set_password(app_id, SCRAM_ITERATIONS + 1 if current == SCRAM_ITERATIONS else SCRAM_ITERATIONS)

    async def delete_credential(self, app_id: str) -> bool:
        """Removes the app's SCRAM user; False when it had none. New logins fail at once; open
        connections end within the re-authentication interval (revoke the ACLs to stop them now)."""
        _check_app_id(app_id)
        deletion = UserScramCredentialDeletion(app_id, ScramMechanism.SCRAM_SHA_512)
        futures = self._admin.alter_user_scram_credentials([deletion], request_timeout=self._timeout)
        try:
            await self._wait(futures[app_id], f"delete the Kafka credential of {app_id}")
        except _NotFound:
            return False

        async def gone() -> bool:
            return await self._iterations(app_id) is None

        await self._until(gone, f"delete the Kafka credential of {app_id}")
        _log.info("kafka credential deleted", extra={"app_id": app_id})
        return True

    async def _set_password(self, app_id: str, iterations: int) -> AppCredential:
        password = new_password()
        upsert = UserScramCredentialUpsertion(
            app_id, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, iterations), password.encode()
        )
        futures = self._admin.alter_user_scram_credentials([upsert], request_timeout=self._timeout)
        await self._wait(futures[app_id], f"set the Kafka credential of {app_id}")

        async def applied() -> bool:
            return await self._iterations(app_id) == iterations

        await self._until(applied, f"set the Kafka credential of {app_id}")
        _log.info("kafka credential set", extra={"app_id": app_id})
        return AppCredential(
            username=app_id, password=password, bootstrap_servers=self._plugin_bootstrap,
            topic=app_topic(app_id), group_prefix=app_id,
        )

    async def _iterations(self, app_id: str) -> int | None:
        """The iteration count of the app's SCRAM-SHA-512 credential; None when it has none."""
        futures = self._admin.describe_user_scram_credentials([app_id], request_timeout=self._timeout)
        try:
            description = await self._wait(futures[app_id], f"look up the Kafka credential of {app_id}")
        except _NotFound:
            return None
        counts = [i.iterations for i in description.scram_credential_infos if i.mechanism == ScramMechanism.SCRAM_SHA_512]
        return counts[0] if counts else None

    # ------------------------------------------------------------ ACLs
    async def grant_read(self, app_id: str) -> None:
        """Lets the app read its own topic and its own consumer groups, creating the topic when
        missing (an app may not create it, and a missing topic reads as "not authorized").
        Granting twice is harmless."""
        _check_app_id(app_id)
        await self._ensure_topic(app_topic(app_id))
        wanted = app_grants(app_id)
        futures = self._admin.create_acls([_binding(app_id, g) for g in wanted], request_timeout=self._timeout)
        for future in futures.values():
            await self._wait(future, f"grant {app_id} read access")

        async def granted() -> bool:
            return set(wanted) <= set(await self._grants_of(app_id))

        await self._until(granted, f"grant {app_id} read access")
        _log.info("kafka read access granted", extra={"app_id": app_id})

    async def revoke_all(self, app_id: str) -> int:
        """Removes every ACL naming the app (not only those ``grant_read`` made); returns how many.
        It applies to connections already open too: their next request is refused."""
        _check_app_id(app_id)
        everything = _everything_of(app_id)
        futures = self._admin.delete_acls([everything], request_timeout=self._timeout)
        deleted = await self._wait(futures[everything], f"revoke the access of {app_id}")

        async def revoked() -> bool:
            return not await self._grants_of(app_id)

        await self._until(revoked, f"revoke the access of {app_id}")
        _log.info("kafka access revoked", extra={"app_id": app_id, "acls": len(deleted)})
        return len(deleted)

    async def access_of(self, app_id: str) -> AppAccess:
        """What the broker holds for the app right now."""
        _check_app_id(app_id)
        return AppAccess(app_id, await self._iterations(app_id) is not None, await self._grants_of(app_id))

    async def _grants_of(self, app_id: str) -> tuple[Grant, ...]:
        future = self._admin.describe_acls(_everything_of(app_id), request_timeout=self._timeout)
        bindings = await self._wait(future, f"list the ACLs of {app_id}")
        return tuple(sorted(_grant(b) for b in bindings))

    async def _ensure_topic(self, topic: str) -> None:
        # Replication -1: the broker's default.replication.factor, right for one node or many.
        new_topic = NewTopic(topic, num_partitions=self._partitions, replication_factor=-1, config=self._topic_config)
        futures = self._admin.create_topics([new_topic], request_timeout=self._timeout)
        try:
            await self._wait(futures[topic], f"create the topic {topic}")
        except _AlreadyExists:
            pass

    # ------------------------------------------------------------ plumbing
    async def _wait(self, future: Future, what: str):
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._timeout + 5)
        except KafkaException as error:
            kafka_error: KafkaError = error.args[0]
            if kafka_error.code() == KafkaError.RESOURCE_NOT_FOUND:
                raise _NotFound(what) from None
            if kafka_error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                raise _AlreadyExists(what) from None
            raise KafkaAccessError(f"cannot {what}: {kafka_error.str()}") from None
        except TimeoutError:
            raise KafkaAccessError(f"cannot {what}: Kafka did not answer within {self._timeout:.0f}s") from None
        finally:
            # librdkafka queues its own log lines (connection failures, say) until poll()
            # hands them to our logger, so they come out as the service's JSON logs.
            self._admin.poll(0)

    async def _until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Polls the broker until it shows a change the controller has committed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while not await check():
            if loop.time() > deadline:
                raise KafkaAccessError(f"cannot {what}: the broker did not apply it within {self._timeout:.0f}s")
            await asyncio.sleep(0.01)


class _NotFound(KafkaAccessError):
    """The broker has no such SCRAM user (an answer, not a failure)."""


class _AlreadyExists(KafkaAccessError):
    """The topic to create is there already (an answer, not a failure)."""


def _check_app_id(app_id: str) -> None:
    # The user name becomes a Kafka principal: only a well-formed app id may, so no name can
    # ever be ANONYMOUS (the internal listener's super user) or carry a separator.
    if not is_id(app_id, "app"):
        raise ValueError(f"not an app id: {app_id!r}")


_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}
_OPERATIONS = {"read": AclOperation.READ, "describe": AclOperation.DESCRIBE}


def _everything_of(app_id: str) -> AclBindingFilter:
    return AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, principal(app_id), None, AclOperation.ANY, AclPermissionType.ANY,
    )


def _binding(app_id: str, grant: Grant) -> AclBinding:
    return AclBinding(
        _RESOURCES[grant.resource], grant.name, _PATTERNS[grant.pattern], principal(app_id), "*",
        _OPERATIONS[grant.operation], AclPermissionType.ALLOW,
    )


def _grant(binding: AclBinding) -> Grant:
    return Grant(
        resource=binding.restype.name.lower(), pattern=binding.resource_pattern_type.name.lower(),
        name=binding.name, operation=binding.operation.name.lower(),
        permission=binding.permission_type.name.lower(),
    )


def client_properties(credential: AppCredential) -> str:
    """The credential as a Java client properties file, for Kafka's own tools
    (``deploy/kafka-tool --client-config FILE``) and any JVM consumer."""
    return "\n".join((
        f"bootstrap.servers={credential.bootstrap_servers}",
        f"security.protocol={credential.security_protocol}",
        f"sasl.mechanism={credential.mechanism}",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{credential.username}" password="{credential.password}";',
        "",
    ))


__all__ = [
    "AppAccess", "AppCredential", "CredentialExists", "Grant", "KafkaAccess", "KafkaAccessError",
    "NoCredential", "SCRAM_MECHANISM", "app_grants", "client_properties", "principal",
]
