"""An operator fixes what made a message fail, then replays its dead letter: it is applied
once, and replaying again changes nothing."""

from __future__ import annotations

import asyncpg
import pytest

from flint_chassis.dead_letters import list_dead_letters, replay
from flint_chassis.outbox import OutboxRelay
from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.chassis.test_pipeline import _equals, start_consumer, write_events
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


async def test_a_replayed_dead_letter_is_applied_once_after_the_cause_is_fixed(pool: asyncpg.Pool, kafka_bootstrap, new_topics):
    # given a deposit dead-lettered because its account was blocked
    await pool.execute(ledger.SCHEMA)
    [topic] = await new_topics("deposits")
    account = ledger.account()
    await pool.execute("INSERT INTO ledger_blocked VALUES ($1)", account)
    relay = OutboxRelay(pool, kafka_bootstrap, poll_interval=0.1)
    await relay.start()
    running = await start_consumer(kafka_bootstrap, pool, topic)
    dlq = dead_letter_topic(topic, "ledger")
    try:
        event = ledger.deposit(account, 900)
        await write_events(pool, topic, [event])
        listed = await eventually(lambda: list_dead_letters(kafka_bootstrap, dlq), message="a dead letter")
        assert [(d["event_id"], d["code"], d["reason"]) for d in listed] == [(event.id, "account_blocked", "account is blocked")]
        assert await ledger.balance(pool, account) is None

        # when the account is unblocked and the dead letter replayed, twice
        await pool.execute("DELETE FROM ledger_blocked")
        group = f"replay-{topic}"
        assert await replay(kafka_bootstrap, dlq, group_id=group) == 1
        await eventually(lambda: _equals(ledger.balance(pool, account), (900, 1)), message="the replayed deposit")
        assert await replay(kafka_bootstrap, dlq, group_id=group) == 0  # already replayed by this group
        assert await replay(kafka_bootstrap, dlq, group_id=f"{group}-again") == 1  # a careless second replay

        # then the deposit counted exactly once
        await eventually(lambda: _equals(pool.fetchval(
            "SELECT count(*) FROM flint_inbox WHERE message_id = $1 AND outcome = 'processed'", event.id), 1))
        await eventually(lambda: _equals(pool.fetchval(
            "SELECT count(*) FROM flint_inbox WHERE topic = $1", topic), 1))
        assert await ledger.balance(pool, account) == (900, 1)
    finally:
        await running.stop()
        await relay.stop()


async def test_replaying_one_dead_letter_leaves_the_others_replayable(pool: asyncpg.Pool, kafka_bootstrap, new_topics):
    # given three deposits dead-lettered because their accounts were blocked
    await pool.execute(ledger.SCHEMA)
    [topic] = await new_topics("deposits")
    accounts = [ledger.account() for _ in range(3)]
    await pool.executemany("INSERT INTO ledger_blocked VALUES ($1)", [(a,) for a in accounts])
    relay = OutboxRelay(pool, kafka_bootstrap, poll_interval=0.1)
    await relay.start()
    running = await start_consumer(kafka_bootstrap, pool, topic)
    dlq = dead_letter_topic(topic, "ledger")
    try:
        events = [ledger.deposit(a, 100 + i) for i, a in enumerate(accounts)]
        await write_events(pool, topic, events)
        await eventually(lambda: _count(list_dead_letters(kafka_bootstrap, dlq), 3), message="three dead letters")
        await pool.execute("DELETE FROM ledger_blocked")
        group = f"replay-{topic}"
        # when the operator replays only the second one
        assert await replay(kafka_bootstrap, dlq, event_id=events[1].id, group_id=group) == 1
        await eventually(lambda: _equals(ledger.balance(pool, accounts[1]), (101, 1)), message="the second one")
        # then the other two are still replayable by the same group, and only them
        assert await replay(kafka_bootstrap, dlq, group_id=group) == 3
        for account, event in ((accounts[0], events[0]), (accounts[2], events[2])):
            await eventually(lambda: _equals(ledger.balance(pool, account), (event.data["amount"]["amount"], 1)),
                             message=account)
        assert await ledger.balance(pool, accounts[1]) == (101, 1)  # replayed twice, applied once
    finally:
        await running.stop()
        await relay.stop()


async def _count(found, expected: int) -> bool:
    return len(await found) == expected
