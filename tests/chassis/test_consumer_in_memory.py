"""The consumer wrapper's logic through FastStream's in-memory TestKafkaBroker (fast), with
the real database. Delivery itself is proven against the real broker in test_pipeline.py."""

from __future__ import annotations

import json

import asyncpg
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from flint_chassis.consumer import EventConsumer
from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger

pytestmark = pytest.mark.integration  # needs PostgreSQL, not Kafka

TOPIC = "flint.test.deposits.v1"


@pytest.fixture
async def broker(pool: asyncpg.Pool) -> KafkaBroker:
    await pool.execute(ledger.SCHEMA)
    broker = KafkaBroker("unused:9092")
    EventConsumer(service="ledger", name="ledger", topics=(TOPIC,), pool=pool, handler=ledger.apply_deposit,
                  on_dead_letter=ledger.note_dead_letter, max_attempts=2, retry_backoff=0.001).register(broker)
    return broker


async def test_a_deposit_is_applied_once_however_often_it_arrives(broker, pool):
    event = ledger.deposit("acc-m", 400)
    async with TestKafkaBroker(broker) as test_broker:
        for _ in range(3):
            await test_broker.publish(event.to_bytes(), TOPIC, key=b"acc-m")
    assert await ledger.balance(pool, "acc-m") == (400, 1)


async def test_garbage_becomes_a_dead_letter_row_in_the_outbox_with_the_reason(broker, pool):
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"\xff\xfe not an event", TOPIC, key=b"acc-m")
        await test_broker.publish(ledger.deposit("acc-m", 5).to_bytes(), TOPIC, key=b"acc-m")
    row = await pool.fetchrow("SELECT topic, key, payload, headers FROM flint_outbox")
    headers = dict(json.loads(row["headers"]))
    assert row["topic"] == dead_letter_topic(TOPIC, "ledger")
    assert bytes(row["payload"]) == b"\xff\xfe not an event" and row["key"] == "acc-m"
    assert headers["flint-dlq-code"] == "malformed" and headers["flint-dlq-reason"].startswith("malformed event")
    assert await ledger.balance(pool, "acc-m") == (5, 1)


async def test_an_event_missing_required_fields_is_dead_lettered_naming_the_field(broker, pool):
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(json.dumps({"id": "evt_x", "source": "tests"}).encode(), TOPIC)
    headers = dict(json.loads(await pool.fetchval("SELECT headers FROM flint_outbox")))
    assert headers["flint-dlq-reason"] == "malformed event: type: Field required"


async def test_a_message_that_stays_too_early_is_dead_lettered_with_its_own_reason_after_the_retries(broker, pool):
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(ledger.deposit("acc-m", 5, later=True).to_bytes(), TOPIC, key=b"acc-m")
    headers = dict(json.loads(await pool.fetchval("SELECT headers FROM flint_outbox")))
    assert (headers["flint-dlq-code"], headers["flint-dlq-reason"]) == ("account_unknown", "account is not opened yet")
    assert headers["flint-dlq-attempts"] == "2"
