"""A message that must wait is parked, not retried in place: its partition goes on, it comes
back when due, and later messages of its key wait behind it (docs/chassis.md, "Parking")."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.chassis.consuming import FAST, committed, produce, read, start_ledger, start_relay
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def topic(pool, new_topics):
    await pool.execute(ledger.SCHEMA)
    [name] = await new_topics("deposits")
    return name


@pytest.fixture
async def relay(pool, kafka_bootstrap):
    relay = await start_relay(pool, kafka_bootstrap, poll_interval=0.1)
    yield relay
    await relay.stop()


async def test_a_parked_message_lets_the_partition_go_on_and_applies_once_its_cause_is_gone(
    pool, kafka_bootstrap, topic, relay
):
    # given a deposit to an account that is not opened yet, then one to another account, on one partition
    running = await start_ledger(kafka_bootstrap, pool, topic)
    try:
        early, other = ledger.account(), ledger.account()
        await pool.execute("INSERT INTO ledger_unopened VALUES ($1)", early)
        waiting = ledger.deposit(early, 300)
        offsets = await produce(kafka_bootstrap, topic, (early.encode(), waiting.to_bytes(), []),
                                (other.encode(), ledger.deposit(other, 40).to_bytes(), []))
        # then the other deposit is applied within a second, and the offset moves past both
        await eventually(lambda: _is(ledger.balance(pool, other), (40, 1)), timeout=1.0, message="the other deposit")
        await eventually(lambda: _is(committed(running, topic), offsets[-1] + 1), timeout=5, message="the commit")
        parked = await pool.fetchrow("SELECT code, reason FROM flint_parked")
        assert (parked["code"], parked["reason"]) == ("account_unknown", "account is not opened yet")
        # when the account is opened, the parked deposit is applied within 3 seconds, once
        await pool.execute("DELETE FROM ledger_unopened")
        await eventually(lambda: _is(ledger.balance(pool, early), (300, 1)), timeout=3.0, message="the parked one")
        assert await pool.fetchval("SELECT count(*) FROM flint_parked") == 0
        assert await pool.fetchval("SELECT count(*) FROM flint_outbox") == 0  # no dead letter
    finally:
        await running.stop()


async def test_messages_of_a_parked_key_wait_behind_it_in_order_with_two_consumers_of_one_group(
    pool, kafka_bootstrap, topic, relay
):
    # given two consumers of one group (two worker replicas), each with its re-driver
    running = await start_ledger(kafka_bootstrap, pool, topic, replicas=2, wait_for=3)
    try:
        # and an account whose first deposit must wait, then three more of its deposits and
        # deposits of ten other accounts, all on one partition
        held, others = ledger.account(), [ledger.account() for _ in range(10)]
        await pool.execute("INSERT INTO ledger_unopened VALUES ($1)", held)
        mine = [ledger.deposit(held, amount) for amount in (1, 2, 3, 4)]
        theirs = [ledger.deposit(account, 10) for account in others]
        messages = [(held.encode(), e.to_bytes(), []) for e in mine[:2]]
        messages += [(a.encode(), e.to_bytes(), []) for a, e in zip(others, theirs)]
        messages += [(held.encode(), e.to_bytes(), []) for e in mine[2:]]
        await produce(kafka_bootstrap, topic, *messages)
        # then the other accounts are not held up
        for account in others:
            await eventually(lambda: _is(ledger.balance(pool, account), (10, 1)), timeout=1.0, message=account)
        # and the held account's later deposits wait behind the first
        await eventually(lambda: _is(pool.fetchval("SELECT count(*) FROM flint_parked"), 4), timeout=3,
                         message="four parked")
        assert await ledger.applied(pool, held) == []
        # when the account opens, its four deposits are applied exactly in the order produced
        await pool.execute("DELETE FROM ledger_unopened")
        await eventually(lambda: _is(ledger.balance(pool, held), (10, 4)), timeout=3.0, message="the held deposits")
        assert await ledger.applied(pool, held) == [e.id for e in mine]
    finally:
        await running.stop()


async def test_when_the_parking_budget_runs_out_it_is_dead_lettered_and_the_next_of_its_key_goes_on(
    pool, kafka_bootstrap, topic, relay
):
    running = await start_ledger(kafka_bootstrap, pool, topic)
    try:
        # given a deposit that will never apply, and behind it (same key) one that will
        never, fine = ledger.account(), ledger.account()
        await pool.execute("INSERT INTO ledger_unopened VALUES ($1)", never)
        doomed = ledger.deposit(never, 5)
        await produce(kafka_bootstrap, topic, (never.encode(), doomed.to_bytes(), []),
                      (never.encode(), ledger.deposit(fine, 6).to_bytes(), []))
        # then after its tries (1 + 3 parked, 1 s in all) it is a dead letter with its last reason
        [dead] = await read(kafka_bootstrap, dead_letter_topic(topic, "ledger"), expected=1, timeout=10)
        why = {k: v.decode() for k, v in dead.headers}
        assert dead.value == doomed.to_bytes()
        assert (why["flint-dlq-code"], why["flint-dlq-reason"], why["flint-dlq-attempts"]) == (
            "account_unknown", "account is not opened yet", "4")
        # and the deposit behind it went on
        await eventually(lambda: _is(ledger.balance(pool, fine), (6, 1)), timeout=3.0, message="the one behind")
        assert await pool.fetchval("SELECT count(*) FROM flint_parked") == 0
    finally:
        await running.stop()


async def test_many_waiting_messages_do_not_slow_the_partition(pool, kafka_bootstrap, topic, relay):
    # given 50 payments for accounts that do not exist yet (issue 7: 100 of them stalled a
    # partition for minutes), then one that can apply
    running = await start_ledger(kafka_bootstrap, pool, topic, options=replace(FAST, park_delays=(60,)))
    try:
        early = [ledger.account() for _ in range(50)]
        await pool.executemany("INSERT INTO ledger_unopened VALUES ($1)", [(a,) for a in early])
        ready = ledger.account()
        await produce(kafka_bootstrap, topic, *[(a.encode(), ledger.deposit(a, 1).to_bytes(), []) for a in early],
                      (ready.encode(), ledger.deposit(ready, 9).to_bytes(), []))
        # then it is applied within 3 seconds (the parked case), the other 50 parked
        started = asyncio.get_running_loop().time()
        await eventually(lambda: _is(ledger.balance(pool, ready), (9, 1)), timeout=3.0, message="the ready one")
        print(f"applied after {asyncio.get_running_loop().time() - started:.2f}s behind 50 parked messages")
        assert await pool.fetchval("SELECT count(*) FROM flint_parked") == 50
    finally:
        await running.stop()


async def _is(value, expected) -> bool:
    return (await value) == expected
