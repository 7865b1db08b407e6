"""The chassis on the real broker and database: outbox → relay → Kafka → consumer → effect."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from flint_chassis import outbox
from flint_chassis.outbox import OutboxRelay
from flint_contracts.envelope import EventEnvelope
from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.chassis.consuming import Running, start_ledger
from tests.support.polling import eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def ledger_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(ledger.SCHEMA)
    return pool


async def start_consumer(bootstrap: str, pool: asyncpg.Pool, topic: str, **options) -> Running:
    return await start_ledger(bootstrap, pool, topic, **options)


async def write_events(pool: asyncpg.Pool, topic: str, events: list[EventEnvelope]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await outbox.enqueue(conn, topic, event)


async def read_all(bootstrap: str, topic: str, expected: int, timeout: float = 30, copies: bool = False) -> list:
    """Records of ``topic`` until ``expected`` distinct messages (or copies) were read, or timeout."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records if copies else _distinct(records)) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


def _distinct(records: list) -> set[bytes]:
    return {r.value for r in records}


async def unpublished(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM flint_outbox WHERE published_at IS NULL")


async def test_an_event_written_to_the_outbox_changes_the_consumers_database(ledger_pool, kafka_bootstrap, new_topics):
    # given a relay and a consumer on a fresh topic
    [topic] = await new_topics("deposits")
    relay = OutboxRelay(ledger_pool, kafka_bootstrap, poll_interval=0.2)
    await relay.start()
    running = await start_consumer(kafka_bootstrap, ledger_pool, topic)
    try:
        # when two deposits commit in the outbox
        account = ledger.account()
        deposits = [ledger.deposit(account, 1250), ledger.deposit(account, 250)]
        await write_events(ledger_pool, topic, deposits)
        # then the consumer applied both, once each, in commit order
        applied = await eventually(lambda: _applied_all(ledger_pool, account, deposits), message="both deposits")
        assert applied == [d.id for d in deposits]
        assert await ledger.balance(ledger_pool, account) == (1500, 2)
        assert await unpublished(ledger_pool) == 0
    finally:
        await running.stop()
        await relay.stop()


async def test_the_same_event_delivered_twice_has_one_effect(ledger_pool, kafka_bootstrap, new_topics):
    # given one event published twice to Kafka (as a relay crash would)
    [topic] = await new_topics("deposits")
    account = ledger.account()
    event, marker = ledger.deposit(account, 700), ledger.deposit(account, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for _ in range(2):
        await producer.send_and_wait(topic, event.to_bytes(), key=account.encode())
    await producer.send_and_wait(topic, marker.to_bytes(), key=account.encode())  # read after both copies
    await producer.stop()
    # when the consumer reads them all
    running = await start_consumer(kafka_bootstrap, ledger_pool, topic)
    try:
        # then, once the marker behind both copies is applied, the deposit counted once
        applied = await eventually(lambda: _applied_all(ledger_pool, account, [marker]), message="the marker")
        assert applied == [event.id, marker.id]
        assert await ledger.balance(ledger_pool, account) == (701, 2)
        inbox = await ledger_pool.fetchval("SELECT count(*) FROM flint_inbox WHERE message_id = $1", event.id)
        assert inbox == 1
    finally:
        await running.stop()


async def test_a_relay_killed_between_publish_and_mark_loses_and_duplicates_nothing(
    ledger_pool, database_url, kafka_bootstrap, new_topics, tmp_path
):
    # given five committed events and a relay process that freezes after publishing them
    [topic] = await new_topics("deposits")
    account = ledger.account()
    events = [ledger.deposit(account, amount) for amount in (100, 200, 300, 400, 500)]
    await write_events(ledger_pool, topic, events)
    marker = tmp_path / "published"
    doomed = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "relay_process.py"), database_url, kafka_bootstrap, str(marker)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        await eventually(marker.exists, timeout=30, message="the doomed relay to publish")
    finally:
        # when it is killed before it marks the rows sent
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    assert marker.read_text() == "5"
    assert len(await read_all(kafka_bootstrap, topic, expected=5)) == 5
    await eventually(lambda: _equals(unpublished(ledger_pool), 5), message="rows unmarked after the kill")

    # and a new relay and the consumer run
    relay = OutboxRelay(ledger_pool, kafka_bootstrap, poll_interval=0.2)
    await relay.start()
    running = await start_consumer(kafka_bootstrap, ledger_pool, topic)
    try:
        # then every event reached Kafka again (at least once) and counted exactly once
        await eventually(lambda: _equals(unpublished(ledger_pool), 0), message="rows republished")
        records = await read_all(kafka_bootstrap, topic, expected=10, copies=True)
        assert sorted(json.loads(r.value)["id"] for r in records) == sorted([e.id for e in events] * 2)
        applied = await eventually(lambda: _applied_all(ledger_pool, account, events), message="all five applied")
        assert sorted(applied) == sorted(e.id for e in events)  # each once, though Kafka holds two copies
        assert await ledger.balance(ledger_pool, account) == (1500, 5)
    finally:
        await running.stop()
        await relay.stop()


async def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_rest_are_processed(
    ledger_pool, kafka_bootstrap, new_topics
):
    # given a topic with a good deposit, garbage, a deposit the handler always fails on,
    # a deposit it refuses, and another good deposit, all under one key
    [topic] = await new_topics("deposits")
    account, broken, blocked = ledger.account(), ledger.account(), ledger.account()
    await ledger_pool.execute("INSERT INTO ledger_broken VALUES ($1)", broken)
    await ledger_pool.execute("INSERT INTO ledger_blocked VALUES ($1)", blocked)
    exploding, refused = ledger.deposit(broken, 5), ledger.deposit(blocked, 7)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    first, last = ledger.deposit(account, 10), ledger.deposit(account, 20)
    for value in (first.to_bytes(), b"{not json", exploding.to_bytes(), refused.to_bytes(), last.to_bytes()):
        await producer.send_and_wait(topic, value, key=account.encode(), headers=[("trace", b"t-1")])
    await producer.stop()
    relay = OutboxRelay(ledger_pool, kafka_bootstrap, poll_interval=0.2)
    await relay.start()
    # when the consumer processes the topic
    running = await start_consumer(kafka_bootstrap, ledger_pool, topic)
    try:
        # then the good deposits are applied, after the poison ones
        applied = await eventually(lambda: _applied_all(ledger_pool, account, [last]), message="the last deposit")
        assert applied == [first.id, last.id]
        assert await ledger.balance(ledger_pool, account) == (30, 2)
        # and the three others are in the dead-letter topic with their reasons and original headers
        dead = await read_all(kafka_bootstrap, dead_letter_topic(topic, "ledger"), expected=3)
    finally:
        await running.stop()
        await relay.stop()
    by_value = {r.value: dict((k, v.decode()) for k, v in r.headers) for r in dead}
    assert set(by_value) == {b"{not json", exploding.to_bytes(), refused.to_bytes()}
    assert by_value[b"{not json"]["flint-dlq-reason"].startswith("malformed event")
    assert by_value[exploding.to_bytes()]["flint-dlq-reason"] == "RuntimeError: handler bug: cannot process this deposit"
    assert by_value[exploding.to_bytes()]["flint-dlq-code"] == "handler_error"
    assert by_value[refused.to_bytes()]["flint-dlq-code"] == "account_blocked"
    assert all(headers["trace"] == "t-1" and headers["flint-dlq-source-topic"] == topic for headers in by_value.values())
    # and the service recorded why, in the same transaction as the dead letter
    notes = await ledger_pool.fetch("SELECT event_id FROM ledger_notes")
    assert {n["event_id"] for n in notes} == {exploding.id, refused.id}


async def test_a_relay_never_publishes_a_keys_later_rows_ahead_of_one_another_relay_holds(
        ledger_pool, kafka_bootstrap, new_topics):
    # given an account's three events and another account's one, and the account's first row
    # locked by someone else (as another relay holds it while it publishes)
    [topic] = await new_topics("gap")
    account, other = ledger.account(), ledger.account()
    first, second, third = (ledger.deposit(account, n) for n in (1, 2, 3))
    elsewhere = ledger.deposit(other, 9)
    await write_events(ledger_pool, topic, [first, second, third, elsewhere])
    holder = await ledger_pool.acquire()
    held = holder.transaction()
    await held.start()
    await holder.execute("SELECT 1 FROM flint_outbox WHERE event_id = $1 FOR UPDATE", first.id)
    relay = OutboxRelay(ledger_pool, kafka_bootstrap, name="gap", poll_interval=0.05)
    await relay.start()
    try:
        # when the relay publishes what it can
        await eventually(lambda: _published(ledger_pool, elsewhere.id), message="the other account's event")
        # then the account's later rows wait behind the held one
        assert not await _published(ledger_pool, second.id) and not await _published(ledger_pool, third.id)
        # and once it is released, all three go out in commit order
        await held.rollback()
        await ledger_pool.release(holder)
        holder = None
        await eventually(lambda: _equals(unpublished(ledger_pool), 0), message="all published")
    finally:
        if holder is not None:
            await held.rollback()
            await ledger_pool.release(holder)
        await relay.stop()
    records = await read_all(kafka_bootstrap, topic, expected=4)
    ids = [json.loads(r.value)["id"] for r in sorted(records, key=lambda r: r.offset) if r.key.decode() == account]
    assert ids == [first.id, second.id, third.id]


async def _published(pool: asyncpg.Pool, event_id: str) -> bool:
    return await pool.fetchval("SELECT published_at IS NOT NULL FROM flint_outbox WHERE event_id = $1", event_id)


async def test_two_relays_side_by_side_keep_each_aggregates_order(ledger_pool, kafka_bootstrap, new_topics):
    # given 300 events over 10 accounts, committed in 30 transactions
    [topic] = await new_topics("ordered", partitions=3)
    expected: dict[str, list[str]] = {ledger.account(): [] for _ in range(10)}
    for round_ in range(30):
        batch = [ledger.deposit(account, round_ + 1) for account in expected]
        for event in batch:
            expected[event.subject].append(event.id)
        await write_events(ledger_pool, topic, batch)
    # when two relays publish at the same time, in small batches
    relays = [OutboxRelay(ledger_pool, kafka_bootstrap, name=f"r{i}", batch_size=7, poll_interval=0.1) for i in (1, 2)]
    for relay in relays:
        await relay.start()
    try:
        await eventually(lambda: _equals(unpublished(ledger_pool), 0), message="all published")
    finally:
        for relay in relays:
            await relay.stop()
    # then every account's events are on Kafka exactly in commit order
    # (a relay that fails mid-batch republishes: later copies are duplicates the inbox drops,
    # so the order that matters is that of each event's first copy)
    records = await read_all(kafka_bootstrap, topic, expected=300)
    seen: dict[str, list[str]] = {account: [] for account in expected}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event_id = json.loads(record.value)["id"]
        if event_id not in seen[record.key.decode()]:
            seen[record.key.decode()].append(event_id)
    out_of_order = [account for account in expected if seen[account] != expected[account]]
    assert not out_of_order, f"not in commit order: {out_of_order}"
    assert all(relay.published > 0 for relay in relays), "both relays should have taken part"


async def _applied_all(pool: asyncpg.Pool, account: str, events: list) -> list[str] | None:
    """The event ids applied to ``account`` once every one of ``events`` is among them."""
    applied = await ledger.applied(pool, account)
    return applied if {e.id for e in events} <= set(applied) else None


async def _equals(value, expected) -> bool:
    if asyncio.iscoroutine(value):
        value = await value
    return value == expected
