"""flint_chassis.kafka_access against the real broker: credentials are made, rotated and
deleted, read access is granted and revoked, and each change shows on the plugin listener
(how soon is what these tests bound; docs/kafka.md gives the figures)."""

from __future__ import annotations

import logging
import time

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from aiokafka.protocol.metadata import MetadataRequest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    ResourcePatternType,
    ResourceType,
)

from flint_chassis.kafka_access import (
    CredentialExists,
    KafkaAccess,
    KafkaAccessError,
    NoCredential,
    app_grants,
    principal,
)
from flint_contracts.ids import new_id
from tests.deploy.plugin_clients import plugin_consumer, publish, read_values, refusal, sasl_settings
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

REAUTH_SETTING = "listener.name.plugins.scram-sha-512.connections.max.reauth.ms"


async def test_a_new_app_holds_a_credential_and_exactly_its_read_grants(kafka_access, new_app):
    # given an app that was given a credential and read access
    app = await new_app()
    # when we list what the broker holds for it
    access = await kafka_access.access_of(app.username)
    # then: a SCRAM credential, and read on its topic and its group prefix, nothing more
    assert access.has_credential
    assert access.grants == app_grants(app.username)
    assert {(g.resource, g.pattern, g.name, g.operation) for g in access.grants} == {
        ("topic", "literal", f"flint.app.{app.username}.v1", "read"),
        ("topic", "literal", f"flint.app.{app.username}.v1", "describe"),
        ("group", "prefixed", app.username, "read"),
    }


async def test_an_app_without_anything_holds_nothing(kafka_access):
    access = await kafka_access.access_of(new_id("app"))
    assert not access.has_credential and access.grants == ()


async def test_granting_twice_changes_nothing(kafka_access, new_app):
    app = await new_app()
    await kafka_access.grant_read(app.username)
    assert (await kafka_access.access_of(app.username)).grants == app_grants(app.username)


async def test_each_credential_gets_its_own_random_password_shown_once(new_app):
    first, second = await new_app(), await new_app()
    assert first.password != second.password and len(first.password) >= 40
    # repr (and so any log line or traceback that prints the object) never shows it
    assert first.password not in repr(first)


async def test_creating_twice_is_refused_and_rotating_needs_a_credential(kafka_access, new_app):
    app = await new_app()
    with pytest.raises(CredentialExists):
        await kafka_access.create_credential(app.username)
    with pytest.raises(NoCredential):
        await kafka_access.rotate_credential(new_id("app"))


async def test_passwords_never_reach_the_logs(kafka_access, new_app, caplog):
    caplog.set_level(logging.DEBUG)
    app = await new_app()
    rotated = await kafka_access.rotate_credential(app.username)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert app.username in logged  # the changes are logged...
    assert app.password not in logged and rotated.password not in logged  # ...their secrets are not


@pytest.mark.parametrize("name", ["ANONYMOUS", "User:app_01J0000000000000000000000A", "app_1", "ord_01J0000000000000000000000A", ""])
async def test_only_app_ids_become_kafka_users(kafka_access, name):
    # ANONYMOUS is the internal listener's super user: no app may ever log in as it
    with pytest.raises(ValueError, match="not an app id"):
        await kafka_access.create_credential(name)
    with pytest.raises(ValueError, match="not an app id"):
        await kafka_access.grant_read(name)


async def test_an_unreachable_broker_is_a_clear_error_within_the_timeout(plugin_bootstrap):
    access = KafkaAccess("127.0.0.1:1", plugin_bootstrap, timeout=1)
    started = time.monotonic()
    with pytest.raises(KafkaAccessError, match="cannot look up the Kafka credential of app_"):
        await access.create_credential(new_id("app"))
    assert time.monotonic() - started < 10


async def test_revoking_removes_every_acl_of_the_app_even_ones_added_by_hand(kafka_access, kafka_bootstrap, new_app):
    # given an app holding its grants plus one an operator added by hand
    app = await new_app()
    extra = AclBinding(ResourceType.TOPIC, "flint.orders.events.v1", ResourcePatternType.LITERAL,
                       principal(app.username), "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})  # kept: its futures die with it
    for future in admin.create_acls([extra]).values():
        future.result(timeout=10)
    assert len((await kafka_access.access_of(app.username)).grants) == 4
    # when its access is revoked
    removed = await kafka_access.revoke_all(app.username)
    # then nothing is left, and revoking again finds nothing
    assert removed == 4
    assert (await kafka_access.access_of(app.username)).grants == ()
    assert await kafka_access.revoke_all(app.username) == 0


async def test_revoking_stops_an_open_consumer_at_its_next_fetch(kafka_access, kafka_bootstrap, new_app):
    # given a plugin consuming its topic in its group
    app = await new_app()
    await publish(kafka_bootstrap, app.topic, b"before")
    consumer = plugin_consumer(app, app.topic, group=f"{app.group_prefix}.worker")
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"before"]
        # when its access is revoked (an uninstall)
        await kafka_access.revoke_all(app.username)

        # then the same open connection is refused when it fetches again
        async def refused() -> bool:
            try:
                await read_values(consumer, 1, timeout_ms=200)
            except TopicAuthorizationFailedError:
                return True
            return False

        await eventually(refused, timeout=5, message="the revoked consumer to be refused")
    finally:
        await consumer.stop()


@pytest.mark.parametrize("rotations", [1, 2])
async def test_after_rotation_the_old_password_cannot_log_in_and_the_new_one_reads(
        kafka_access, kafka_bootstrap, new_app, rotations):
    # given an app with an event on its topic
    app = await new_app()
    await publish(kafka_bootstrap, app.topic, b"event")
    # when its credential is rotated (once, or twice in a row)
    old = [app]
    for _ in range(rotations):
        old.append(await kafka_access.rotate_credential(app.username))
    newest = old.pop()
    # then no earlier password logs in any more, from the moment rotation returns...
    for earlier in old:
        assert isinstance(await refusal(plugin_consumer(earlier, earlier.topic)), KafkaConnectionError)
    # ...and the newest reads the topic
    consumer = plugin_consumer(newest, newest.topic, group=f"{newest.group_prefix}.worker")
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"event"]
    finally:
        await consumer.stop()


async def test_a_deleted_credential_cannot_log_in(kafka_access, new_app):
    app = await new_app()
    assert await kafka_access.delete_credential(app.username) is True
    assert isinstance(await refusal(plugin_consumer(app, app.topic)), KafkaConnectionError)
    assert not (await kafka_access.access_of(app.username)).has_credential
    assert await kafka_access.delete_credential(app.username) is False


@pytest.fixture(scope="module")
def reauth_seconds(kafka_bootstrap) -> float:
    """The broker's re-authentication interval on the plugin listener, kept short on the test stack."""
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})  # kept: its futures die with it
    [future] = admin.describe_configs([ConfigResource(ResourceType.BROKER, "1")]).values()
    entry = future.result(timeout=10).get(REAUTH_SETTING)
    assert entry is not None and entry.value, f"the broker does not set {REAUTH_SETTING}"
    seconds = int(entry.value) / 1000
    if seconds > 30:
        pytest.fail(f"the broker re-authenticates plugin logins every {seconds:.0f}s; these tests need <= 30s: "
                    "run them on the test stack (tests/support/stack.py) or set FLINT_KAFKA_PLUGIN_REAUTH_MS", pytrace=False)
    return seconds


@pytest.mark.parametrize("change", ["rotate", "delete"])
async def test_a_connection_made_with_the_old_password_ends_within_the_reauth_interval(
        kafka_access, new_app, reauth_seconds, change):
    # given a plugin connection logged in with the app's password
    app = await new_app()
    client = AIOKafkaClient(**sasl_settings(app))
    await client.bootstrap()
    node = next(iter(client.cluster.brokers())).nodeId
    logged_in_at = time.monotonic()
    try:
        await client.send(node, MetadataRequest([app.topic]))
        # when the password is rotated (or the credential deleted)
        if change == "rotate":
            await kafka_access.rotate_credential(app.username)
        else:
            await kafka_access.delete_credential(app.username)

        # then the broker ends that connection once its login expires, and logging in again fails
        async def cut_off() -> bool:
            try:
                await client.send(node, MetadataRequest([app.topic]))
            except KafkaConnectionError:
                return True
            return False

        await eventually(cut_off, timeout=reauth_seconds + 10, interval=0.2, message="the old login to end")
        assert time.monotonic() - logged_in_at <= reauth_seconds + 3
    finally:
        await client.close()


async def test_a_plugin_with_a_valid_password_keeps_reading_across_re_authentications(
        kafka_bootstrap, new_app, reauth_seconds):
    # given a plugin consuming its topic
    app = await new_app()
    consumer = plugin_consumer(app, app.topic, group=f"{app.group_prefix}.worker")
    await consumer.start()
    try:
        # when it keeps reading for longer than a login lasts
        until = time.monotonic() + reauth_seconds + 2
        sent = 0
        while time.monotonic() < until:
            sent += 1
            await publish(kafka_bootstrap, app.topic, str(sent).encode())
            # then every event still arrives (the broker's disconnects are reconnected with the valid password)
            assert await read_values(consumer, 1, timeout_ms=10000) == [str(sent).encode()]
    finally:
        await consumer.stop()
