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
    await pool.execute("INSERT INTO ledger_blocked VALUES ('acc-r')")
    relay = OutboxRelay(pool, kafka_bootstrap, poll_interval=0.1)
    await relay.start()
    broker = await start_consumer(kafka_bootstrap, pool, topic)
    dlq = dead_letter_topic(topic, "ledger")
    try:
        event = ledger.deposit("acc-r", 900)
        await write_events(pool, topic, [event])
        listed = await eventually(lambda: list_dead_letters(kafka_bootstrap, dlq), message="a dead letter")
        assert [(d["event_id"], d["code"], d["reason"]) for d in listed] == [(event.id, "account_blocked", "account is blocked")]
        assert await ledger.balance(pool, "acc-r") is None

        # when the account is unblocked and the dead letter replayed, twice
        await pool.execute("DELETE FROM ledger_blocked")
        group = f"replay-{topic}"
        assert await replay(kafka_bootstrap, dlq, group_id=group) == 1
        await eventually(lambda: _equals(ledger.balance(pool, "acc-r"), (900, 1)), message="the replayed deposit")
        assert await replay(kafka_bootstrap, dlq, group_id=group) == 0  # already replayed by this group
        assert await replay(kafka_bootstrap, dlq, group_id=f"{group}-again") == 1  # a careless second replay

        # then the deposit counted exactly once
        await eventually(lambda: _equals(pool.fetchval(
            "SELECT count(*) FROM flint_inbox WHERE message_id = $1 AND outcome = 'processed'", event.id), 1))
        await eventually(lambda: _equals(pool.fetchval(
            "SELECT count(*) FROM flint_inbox WHERE topic = $1", topic), 1))
        assert await ledger.balance(pool, "acc-r") == (900, 1)
    finally:
        await broker.stop()
        await relay.stop()
