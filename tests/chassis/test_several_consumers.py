"""A subscription with several consumers in one process: the topic's partitions are shared out,
handled side by side, and each key's messages still apply once and in order."""

from __future__ import annotations

import asyncio

import pytest
from faststream.kafka import KafkaBroker

from flint_chassis.consumer import Subscription, SubscriptionConsumer
from flint_chassis.topics import ensure_topics
from flint_contracts import event_types as types
from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.chassis.consuming import FAST, SERVICE, produce
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


def test_several_consumers_read_one_topic_only():
    with pytest.raises(ValueError, match="one topic only"):
        Subscription("deposits", "a.topic", "another.topic", consumers=2)
    with pytest.raises(ValueError):
        Subscription("deposits", "a.topic", consumers=0)


async def test_three_consumers_share_the_partitions_and_keep_each_keys_order(pool, kafka_bootstrap, new_topics):
    # given a three-partition topic, and a subscription read by three consumers in one process
    await pool.execute(ledger.SCHEMA)
    [topic] = await new_topics("deposits")
    await ensure_topics(kafka_bootstrap, [dead_letter_topic(topic, SERVICE)])
    deposits = Subscription("deposits", topic, consumers=3)
    deposits.on(types.PAYMENT_CAPTURED)(ledger.apply_deposit)
    broker = KafkaBroker(kafka_bootstrap)
    consumer = SubscriptionConsumer(deposits, pool, service=SERVICE, group=f"ledger-{topic}", options=FAST)
    consumer.register(broker)
    await broker.start()
    try:
        subgroup = consumer.subscriber.consumer_subgroup
        await eventually(lambda: all(c.assignment() for c in subgroup), timeout=30, message="a partition each")
        assert len(subgroup) == 3
        # when every partition gets deposits of its own accounts, each account's in a known order
        accounts = {partition: [ledger.account() for _ in range(3)] for partition in range(3)}
        sent = {}
        for partition, owners in accounts.items():
            events = [ledger.deposit(account, n + 1) for n in range(5) for account in owners]
            await produce(kafka_bootstrap, topic, *((e.data["order_id"].encode(), e.to_bytes(), []) for e in events),
                          partition=partition)
            for event in events:
                sent.setdefault(event.data["order_id"], []).append(event.id)
        # then every deposit applies once, each account's in the order sent
        await eventually(lambda: _all_applied(pool, sent), timeout=30, message="every deposit")
        for account, event_ids in sent.items():
            assert await ledger.applied(pool, account) == event_ids
            assert await ledger.balance(pool, account) == (15, 5)
        # and readiness looks at each consumer's partitions
        assert await consumer.stalls() == []
    finally:
        await broker.stop()


async def _all_applied(pool, sent: dict[str, list[str]]) -> bool:
    counts = await asyncio.gather(*(ledger.applied(pool, account) for account in sent))
    return all(len(done) == len(sent[account]) for done, account in zip(counts, sent))
