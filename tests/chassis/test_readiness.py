"""/readyz tells the truth: a stalled consumer partition makes it 503 with the reason; a
broker that does not answer shows as degraded while writes still land in the outbox."""

from __future__ import annotations

import asyncio
import secrets
from typing import ClassVar

import httpx
import pytest
from fastapi import FastAPI

from flint_chassis.config import ServiceSettings
from flint_chassis.health import health_router
from flint_chassis.runtime import ServiceRuntime
from tests.chassis import ledger
from tests.chassis.consuming import produce
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


class LedgerSettings(ServiceSettings):
    service_name: ClassVar[str] = "ledger"
    consumer_group_prefix: str = ""


@pytest.fixture
async def runtime(database_url, server_url, kafka_bootstrap, new_topics):
    [topic] = await new_topics("deposits")
    settings = LedgerSettings(database_url=server_url, database_name=database_url.rsplit("/", 1)[1],
                              kafka_bootstrap_servers=kafka_bootstrap, consumer_stall_seconds=0.5,
                              consumer_group_prefix=f"{secrets.token_hex(4)}.", outbox_poll_interval=0.1)
    runtime = ServiceRuntime(settings, subscriptions=[ledger.subscription("deposits", topic)])
    await runtime.start()
    await runtime.pool.execute(ledger.SCHEMA)
    try:
        yield runtime, topic
    finally:
        await runtime.stop()


async def readyz(runtime: ServiceRuntime) -> httpx.Response:
    app = FastAPI()
    app.include_router(health_router(runtime.health_checks()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as client:
        return await client.get("/readyz")


async def test_a_stalled_partition_makes_readyz_fail_with_the_reason_until_it_moves(runtime, kafka_bootstrap):
    runtime, topic = runtime
    assert (await readyz(runtime)).status_code == 200
    # given a handler stuck on a deposit, with another one waiting behind it
    stuck = ledger.account()
    ledger.HOLD[stuck] = asyncio.Event()
    try:
        await produce(kafka_bootstrap, topic, (stuck.encode(), ledger.deposit(stuck, 1).to_bytes(), []),
                      (stuck.encode(), ledger.deposit(stuck, 2).to_bytes(), []))
        # then after consumer_stall_seconds /readyz is 503 naming the partition
        response = await eventually(lambda: _status(readyz(runtime), 503), timeout=10, message="a 503")
        body = response.json()
        assert body["status"] == "not ready"
        assert f"{topic}[0] stuck at offset 0" in body["checks"]["consumers"]
        # when the handler moves on, it is ready again
        ledger.HOLD[stuck].set()
        await eventually(lambda: _status(readyz(runtime), 200), timeout=10, message="ready again")
    finally:
        ledger.HOLD.pop(stuck, None).set()


async def test_kafka_not_answering_is_degraded_not_failing(runtime):
    runtime, _ = runtime
    # given the service's Kafka connection gone (its broker client stopped)
    await runtime.broker.stop()
    # then /readyz stays 200 and says so in its body
    response = await readyz(runtime)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["kafka"].startswith("degraded: Kafka does not answer")
    runtime.broker = None  # already stopped


async def _status(response, status: int):
    answered = await response
    return answered if answered.status_code == status else None
