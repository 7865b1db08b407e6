"""The broker, not Flint's code, keeps plugins to their own data: on the plugin listener an
app's SCRAM credential reads its own topic and its own consumer groups, and nothing else.
Plugins here are real aiokafka clients; the services write on the internal listener."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from flint_chassis.kafka_access import app_grants
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import ORDERS_EVENTS, REGISTRY, dead_letter_topic
from tests.deploy.plugin_clients import (
    end_offsets,
    plugin_consumer,
    plugin_producer,
    publish,
    publish_to_partition,
    raw_fetch,
    read_values,
    refusal,
)

pytestmark = pytest.mark.integration

INTERNAL_TOPICS = sorted(REGISTRY) + [dead_letter_topic(ORDERS_EVENTS, "installs")]


async def test_an_app_reads_its_own_topic_in_a_group_of_its_own(new_app, kafka_bootstrap):
    # given an app and two events the services wrote to its topic
    app = await new_app()
    await publish(kafka_bootstrap, app.topic, b"order.created", b"order.paid")
    # when the plugin consumes with its credential, in a group named after its app id
    consumer = plugin_consumer(app, app.topic, group=f"{app.group_prefix}.fulfilment")
    await consumer.start()
    try:
        values = await read_values(consumer, 2)
        # then it gets both, in order, and may commit its position
        assert values == [b"order.created", b"order.paid"]
        await consumer.commit()
    finally:
        await consumer.stop()


async def test_an_app_cannot_read_another_apps_topic(new_app, kafka_bootstrap):
    # given two apps, and an event on the other app's topic
    app, other = await new_app(), await new_app()
    await publish(kafka_bootstrap, other.topic, b"not yours")
    # when the first app subscribes to the other's topic
    refused = await refusal(plugin_consumer(app, other.topic))
    # then the broker refuses
    assert isinstance(refused, TopicAuthorizationFailedError)

@pytest.mark.parametrize("topic", INTERNAL_TOPICS)
async def test_an_app_cannot_read_any_internal_topic(new_app, kafka_bootstrap, topic):
    # given an internal topic holding an event
    app = await new_app()
    await ensure_topics(kafka_bootstrap, [topic])
    await publish(kafka_bootstrap, topic, b'{"customer": {"email": "ada@example.com"}}')
    # when the app subscribes to it
    refused = await refusal(plugin_consumer(app, topic))
    # then the broker refuses
    assert isinstance(refused, TopicAuthorizationFailedError)

async def test_a_raw_fetch_of_an_internal_partition_is_refused_by_the_broker(new_app, kafka_bootstrap):
    # given an event on the orders topic and one on the app's own topic, partition 0 each
    app = await new_app()
    await ensure_topics(kafka_bootstrap, [ORDERS_EVENTS])
    await publish_to_partition(kafka_bootstrap, ORDERS_EVENTS, b"secret")
    await publish_to_partition(kafka_bootstrap, app.topic, b"yours")
    # when the app sends Fetch requests itself, skipping the metadata a consumer asks first
    internal = await raw_fetch(app, ORDERS_EVENTS)
    own = await raw_fetch(app, app.topic)
    # then the broker answers TOPIC_AUTHORIZATION_FAILED with no records for the internal
    # partition, and the records for its own
    assert internal == (TopicAuthorizationFailedError.errno, None)
    assert own[0] == 0 and b"yours" in own[1]


@pytest.mark.parametrize("group", ["fulfilment", "flint-orders", "{other}.fulfilment", "{other}"])
async def test_an_app_cannot_use_a_group_not_prefixed_with_its_own_id(new_app, group):
    # given an app, and a group named without its id (or after another app)
    app, other = await new_app(), await new_app()
    # when it joins that group to read its own topic
    refused = await refusal(plugin_consumer(app, app.topic, group=group.format(other=other.username)))
    # then the broker refuses the group
    assert isinstance(refused, GroupAuthorizationFailedError)

@pytest.mark.parametrize("target", ["own topic", "orders events"])
async def test_an_app_cannot_write_and_nothing_lands(new_app, kafka_bootstrap, target):
    # given an app, and how many messages the target topic holds
    app = await new_app()
    topic = app.topic if target == "own topic" else ORDERS_EVENTS
    await ensure_topics(kafka_bootstrap, [topic])
    before = await end_offsets(kafka_bootstrap, topic)
    # when the plugin tries to produce to it
    producer = plugin_producer(app)
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topic, b"forged event")
    finally:
        await producer.stop()
    # then the topic holds exactly what it held
    assert await end_offsets(kafka_bootstrap, topic) == before


@pytest.mark.parametrize("who", ["wrong password", "unknown user"])
async def test_a_wrong_password_or_an_unknown_user_cannot_log_in(new_app, who):
    # given an app
    app = await new_app()
    if who == "unknown user":
        app = replace(app, username="app_00000000000000000000000000")
    password = "not-the-password" if who == "wrong password" else app.password
    # when a client logs in with a wrong secret, then the broker refuses the connection
    consumer = plugin_consumer(app, app.topic, password=password)
    with pytest.raises(KafkaConnectionError):
        await consumer.start()
    await consumer.stop()


async def test_the_internal_listener_still_does_everything_without_credentials(kafka_bootstrap, new_app):
    # given an app's topic (ACLs exist on the broker now) and a topic of the services
    app = await new_app()
    services_topic = f"test.acl-check.{app.username}"
    await ensure_topics(kafka_bootstrap, [services_topic])
    try:
        # when a service writes both and reads them back in a group, on the internal listener
        await publish(kafka_bootstrap, services_topic, b"internal")
        await publish(kafka_bootstrap, app.topic, b"routed")
        consumer = AIOKafkaConsumer(services_topic, app.topic, bootstrap_servers=kafka_bootstrap,
                                    group_id="flint-acl-check", auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            values = await read_values(consumer, 2)
            await consumer.commit()
        finally:
            await consumer.stop()
        # then everything works as before the authorizer was switched on
        assert sorted(values) == [b"internal", b"routed"]
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        await admin.delete_topics([services_topic])
        await admin.close()



async def test_an_app_cannot_create_topics_grant_itself_acls_or_change_credentials(new_app, kafka_access, kafka_bootstrap):
    # given an app, and a Kafka admin client logged in with its credential
    app, other = await new_app(), await new_app()
    admin = AdminClient({
        "bootstrap.servers": app.bootstrap_servers, "security.protocol": app.security_protocol,
        "sasl.mechanism": app.mechanism, "sasl.username": app.username, "sasl.password": app.password,
    })
    read_orders = AclBinding(ResourceType.TOPIC, ORDERS_EVENTS, ResourcePatternType.LITERAL,
                             f"User:{app.username}", "*", AclOperation.READ, AclPermissionType.ALLOW)
    new_password = UserScramCredentialUpsertion(
        other.username, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), b"taken-over")
    # when it tries to create a topic, to grant itself read on the orders topic, and to set
    # another app's password, then the broker refuses each
    attempts = {
        "create topic": admin.create_topics([NewTopic(f"{app.topic}.extra", num_partitions=1)]),
        "create acl": admin.create_acls([read_orders]),
        "alter scram": admin.alter_user_scram_credentials([new_password]),
    }
    for what, futures in attempts.items():
        [future] = futures.values()
        with pytest.raises(KafkaException) as refused:
            future.result(timeout=15)
        assert refused.value.args[0].code() in (
            KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED), what
    # and nothing changed: the app still holds only its own grants, the other app its password
    assert (await kafka_access.access_of(app.username)).grants == app_grants(app.username)
    await publish(kafka_bootstrap, other.topic, b"still mine")
    consumer = plugin_consumer(other, other.topic)
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"still mine"]
    finally:
        await consumer.stop()
