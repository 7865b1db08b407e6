"""An app's Kafka credential through the installs API (the app's client id and secret): shown
once, rotatable, never shown again; and the broker's read access following the app's
installs: granted with the first, kept while one remains, gone when the last one is."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from flint_chassis.kafka_access import AppCredential
from flint_contracts.topics import app_topic
from tests.deploy.conftest import plugin_bootstrap  # noqa: F401 - shared fixture
from tests.deploy.plugin_clients import plugin_consumer, publish, read_values, refusal
from tests.installs.delivery.apps import install_app
from tests.installs.delivery.service import delivering_installs, delivering_settings
from tests.installs.support import Flint

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(server_url, database_url, kafka_bootstrap, plugin_bootstrap) -> AsyncIterator[Flint]:  # noqa: F811
    # The API alone: installs and uninstalls change the broker's ACLs from the request itself.
    settings = delivering_settings(server_url, database_url, kafka_bootstrap, plugin_bootstrap, role="api")
    async with delivering_installs(settings) as flint:
        yield flint


def basic(app: dict, secret: str | None = None) -> dict[str, str]:
    raw = f"{app['client_id']}:{secret or app['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def credential_of(body: dict) -> AppCredential:
    return AppCredential(username=body["username"], password=body["password"],
                         bootstrap_servers=body["bootstrap_servers"], topic=body["topic"],
                         group_prefix=body["group_prefix"])


async def _access(service: Flint, app: dict) -> dict:
    response = await service.http.get(f"/v1/apps/{app['id']}/kafka-credential", headers=basic(app))
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_credential_is_shown_once_and_a_second_one_is_refused(service, plugin_bootstrap):  # noqa: F811
    app = await service.register_app(scopes=["orders:read"])
    path = f"/v1/apps/{app['id']}/kafka-credential"
    # when the app asks for its credential
    created = await service.http.post(path, headers=basic(app))
    # then it gets its SASL login for the plugin listener, once
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["username"], body["bootstrap_servers"], body["topic"], body["group_prefix"]) == (
        app["id"], plugin_bootstrap, app_topic(app["id"]), app["id"])
    assert (body["security_protocol"], body["sasl_mechanism"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert len(body["password"]) >= 40
    again = await service.http.post(path, headers=basic(app))
    assert (again.status_code, again.json()["code"]) == (409, "kafka_credential_exists")
    status = await _access(service, app)
    assert (status["has_credential"], status["can_read"]) == (True, False)  # not installed anywhere yet
    assert body["password"] not in str(status)


async def test_a_retry_with_the_same_idempotency_key_shows_the_same_password(service):
    app = await service.register_app(scopes=["orders:read"])
    path, headers = f"/v1/apps/{app['id']}/kafka-credential", {**basic(app), "Idempotency-Key": "kafka-1"}
    first, again = await service.http.post(path, headers=headers), await service.http.post(path, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["password"] == first.json()["password"]


async def test_only_the_app_itself_may_ask(service):
    app, other = await service.register_app(scopes=["orders:read"]), await service.register_app(scopes=["orders:read"])
    merchant = await service.create_merchant()
    path = f"/v1/apps/{app['id']}/kafka-credential"
    answers = {
        "no credentials": await service.http.post(path),
        "a wrong secret": await service.http.post(path, headers=basic(app, "cs_wrong")),
        "a merchant's key": await service.http.post(path, headers={"Authorization": "Basic " + base64.b64encode(
            f"{merchant['id']}:{merchant['secret_key']}".encode()).decode()}),
        "a malformed header": await service.http.post(path, headers={"Authorization": "Basic %%%"}),
        "an app token": await service.http.post(path, headers=service.bearer("not-basic")),
    }
    assert {k: (a.status_code, a.json()["code"]) for k, a in answers.items()} == {
        k: (401, "invalid_client") for k in answers}
    assert all(a.headers["www-authenticate"].startswith("Basic") for a in answers.values())
    foreign = await service.http.post(path, headers=basic(other))
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert (await _access(service, app))["has_credential"] is False


async def test_a_rotation_stops_the_old_password_at_once(service, kafka_bootstrap):
    app = await service.register_app(scopes=["orders:read"])
    path = f"/v1/apps/{app['id']}/kafka-credential"
    refused = await service.http.post(f"{path}/rotate", headers=basic(app))
    assert (refused.status_code, refused.json()["code"]) == (409, "no_kafka_credential")
    old = credential_of((await service.http.post(path, headers=basic(app))).json())
    await install_app(service, ["orders:read"], app=app)
    await publish(kafka_bootstrap, old.topic, b"event")
    # when the app rotates its credential
    rotated = await service.http.post(f"{path}/rotate", headers=basic(app))
    assert rotated.status_code == 200, rotated.text
    new = credential_of(rotated.json())
    # then the old password no longer logs in and the new one reads
    assert new.password != old.password
    assert isinstance(await refusal(plugin_consumer(old, old.topic)), KafkaConnectionError)
    consumer = plugin_consumer(new, new.topic, group=f"{new.group_prefix}.rotated")
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"event"]
    finally:
        await consumer.stop()


async def test_read_access_comes_with_the_first_install_and_goes_with_the_last(service, kafka_bootstrap):
    # given an app with its credential, installed by nobody yet
    app = await service.register_app(scopes=["orders:read"])
    credential = credential_of((await service.http.post(f"/v1/apps/{app['id']}/kafka-credential",
                                                        headers=basic(app))).json())
    # when a first merchant installs it, then a second
    first = await install_app(service, ["orders:read"], app=app)
    assert (await _access(service, app))["can_read"] is True
    second = await install_app(service, ["orders:read"], app=app)
    await publish(kafka_bootstrap, credential.topic, b"event")
    consumer = plugin_consumer(credential, credential.topic, group=f"{credential.group_prefix}.reader")
    await consumer.start()
    try:
        assert await read_values(consumer, 1) == [b"event"]
        # when the first uninstalls, the app still reads (the second install remains)
        await _uninstall(service, first)
        assert (await _access(service, app))["can_read"] is True
        await publish(kafka_bootstrap, credential.topic, b"still")
        assert await read_values(consumer, 1) == [b"still"]
        # when the last uninstalls, the broker refuses the open consumer's next fetch
        await _uninstall(service, second)
        assert (await _access(service, app))["can_read"] is False
        with pytest.raises(TopicAuthorizationFailedError):
            await read_values(consumer, 1, timeout_ms=10000)
    finally:
        await consumer.stop()
    state = await service.pool.fetchrow("SELECT readable, version, applied_version FROM app_kafka_access "
                                        "WHERE app_id = $1", app["id"])
    assert dict(state) == {"readable": False, "version": 2, "applied_version": 2}


async def _uninstall(service: Flint, plugin) -> None:
    token = await service.merchant_token(plugin.merchant)
    response = await service.http.post(f"/v1/installs/{plugin.install_id}/uninstall", headers=service.bearer(token))
    assert response.status_code == 200, response.text
