"""Offsets of a consumer working through a backlog are committed in steps, not per message
(flint_chassis.consumer.commits); once it has caught up nothing waits uncommitted, what a
stop left uncommitted is read again and applied once, and a rebalance commits what was
taken care of before the partitions change hands."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from flint_chassis.consumer import CommitPacing
from tests.chassis import ledger
from tests.chassis.consuming import FAST, committed, produce, start_ledger
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def ledger_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(ledger.SCHEMA)
    return pool


@pytest.fixture
def commits(monkeypatch) -> list[int]:
    """One entry per offset commit any consumer makes during the test."""
    calls: list[int] = []
    original = AIOKafkaConsumer.commit

    async def counted(self, offsets=None):
        calls.append(1)
        return await original(self, offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", counted)
    return calls


# Offsets trail the work: nothing is committed before 1000 messages or a minute.
PACED = replace(FAST, commit_every=1000, commit_interval=60)


def deposits(account: str, count: int) -> list[tuple[bytes, bytes, list]]:
    return [(account.encode(), ledger.deposit(account, 1).to_bytes(), []) for _ in range(count)]


async def test_a_backlog_is_committed_every_n_messages_and_fully_once_caught_up(
        ledger_pool, kafka_bootstrap, new_topics, commits):
    # given 300 deposits waiting before the consumer starts
    [topic] = await new_topics("deposits", partitions=1)
    account = ledger.account()
    await produce(kafka_bootstrap, topic, *deposits(account, 300))
    # when a consumer that commits every 50 messages while behind works through them
    running = await start_ledger(kafka_bootstrap, ledger_pool, topic,
                                 options=replace(FAST, commit_every=50, commit_interval=60))
    try:
        await eventually(lambda: _equals(ledger.balance(ledger_pool, account), (300, 300)), timeout=60,
                         message="all 300 deposits applied")
        # then the group's offset is at the partition's end (nothing left for a restart to redo)
        await eventually(lambda: _equals(committed(running, topic), 300), message="offset committed to the end")
        # and it took a handful of commits, not one per message
        assert 1 <= len(commits) <= 300 // 50 + 5, len(commits)
        assert running.consumer.commits.uncommitted() == 0
    finally:
        await running.stop()


async def test_what_a_stopped_consumer_left_uncommitted_is_read_again_and_applied_once(
        ledger_pool, kafka_bootstrap, new_topics):
    # given 120 deposits to one account, one to a second account whose handler will wait, then 79 more
    topic, first, held = await _backlog_with_a_held_deposit(kafka_bootstrap, new_topics)
    running = await start_ledger(kafka_bootstrap, ledger_pool, topic, options=PACED)
    try:
        # when the consumer has applied the first 120 and waits on the held one
        await eventually(lambda: _equals(ledger.balance(ledger_pool, first), (120, 120)), timeout=60,
                         message="the first 120 deposits")
        # then, being behind, it has committed nothing yet
        assert await committed(running, topic) is None
        assert running.consumer.commits.uncommitted() == 120
        stopping = asyncio.create_task(running.stop())  # a deploy stops the worker mid-backlog
        await asyncio.sleep(0.2)
    finally:
        ledger.HOLD.pop(held).set()
    await stopping
    # when the worker comes back in the same group
    again = await start_ledger(kafka_bootstrap, ledger_pool, topic, options=PACED)
    try:
        # then every deposit is applied once: what was read again was stopped by the inbox
        await eventually(lambda: _equals(ledger.balance(ledger_pool, first), (199, 199)), timeout=60,
                         message="all deposits of the first account")
        assert await ledger.balance(ledger_pool, held) == (1, 1)
        assert again.consumer.stats["duplicate"] >= 120
        applied = await ledger_pool.fetchval(
            "SELECT count(*) - count(DISTINCT event_id) FROM ledger_applied WHERE account = ANY($1::text[])",
            [first, held])
        assert applied == 0
        await eventually(lambda: _equals(committed(again, topic), 200), message="offset committed to the end")
    finally:
        await again.stop()


async def test_a_rebalance_commits_what_was_taken_care_of_so_the_next_owner_reads_nothing_twice(
        ledger_pool, kafka_bootstrap, new_topics):
    # given a consumer behind on a backlog, that has applied 120 deposits (none committed
    # yet) and waits on the 121st
    topic, first, held = await _backlog_with_a_held_deposit(kafka_bootstrap, new_topics)
    replicas = [await start_ledger(kafka_bootstrap, ledger_pool, topic, options=PACED)]
    try:
        await eventually(lambda: _equals(ledger.balance(ledger_pool, first), (120, 120)), timeout=60,
                         message="the first 120 deposits")
        assert await committed(replicas[0], topic) is None
        # when a second replica joins the group (a scale-up, a rolling deploy)
        replicas.append(await start_ledger(kafka_bootstrap, ledger_pool, topic, options=PACED, wait_for=0))
        # then the rebalance commits the 120 taken care of, before the partition changes hands
        await eventually(lambda: _equals(committed(replicas[0], topic), 120), timeout=30,
                         message="the finished offsets committed on revoke")
        ledger.HOLD[held].set()
        # and the rest is applied once, with at most the message in hand read again
        await eventually(lambda: _equals(ledger.balance(ledger_pool, first), (199, 199)), timeout=60,
                         message="all deposits of the first account")
        assert await ledger.balance(ledger_pool, held) == (1, 1)
        duplicates = sum(c.stats["duplicate"] for r in replicas for c in r.consumers)
        assert duplicates <= 1, duplicates
    finally:
        ledger.HOLD.pop(held).set()
        for running in replicas:
            await running.stop()


def test_pacing_commits_once_caught_up_and_every_n_while_behind():
    class Consumer:
        end = 10

        def highwater(self, tp):
            return self.end

    consumer, pacing = Consumer(), CommitPacing(every=3, interval=60)
    due = []
    for offset in range(10):
        due.append(pacing.due(consumer, "t", 0, offset))
        if due[-1]:
            pacing.committed(consumer)
        else:
            assert pacing.uncommitted() == offset % 3 + 1
    assert due == [False, False, True, False, False, True, False, False, True, True]  # the last: caught up
    assert pacing.uncommitted() == 0
    assert CommitPacing(every=1000, interval=0).due(consumer, "t", 0, 0)  # the interval has passed
    assert CommitPacing(every=1000, interval=60).due(object(), "t", 0, 0)  # end unknown: commit


async def _backlog_with_a_held_deposit(bootstrap: str, new_topics) -> tuple[str, str, str]:
    """A topic holding 120 deposits to one account, one to a second account whose handler
    waits until the test lets it go, then 79 more: (topic, first account, held account)."""
    [topic] = await new_topics("deposits", partitions=1)
    first, held = ledger.account(), ledger.account()
    await produce(bootstrap, topic, *deposits(first, 120), *deposits(held, 1), *deposits(first, 79))
    ledger.HOLD[held] = asyncio.Event()
    return topic, first, held


async def _equals(value, expected) -> bool:
    return (await value) == expected
