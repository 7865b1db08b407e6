"""Two processes of each service's API and worker (the layout of `make up REPLICAS=2`): the
two orders workers share each consumer group's partitions (each partition read by exactly
one), and when one is SIGKILLed mid-load the other takes its partitions over; nothing is
lost or applied twice. The time until the survivor held every partition is reported."""

from __future__ import annotations

import asyncio
import time

import pytest
from confluent_kafka.admin import AdminClient

from flint_orders.app import create_runtime
from flint_orders.config import OrdersSettings
from tests.faults.conftest import Sizes
from tests.faults.ledger import count
from tests.faults.load import Load
from tests.faults.stack import FaultStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.faults]

GROUP = OrdersSettings().group("payments")  # one of the orders worker's groups (3 partitions)


def assignment(bootstrap: str, group: str) -> dict[str, set[int]]:
    """Each live member of ``group`` (by client host and id) and the partitions it holds."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    return {f"{m.client_id}/{m.member_id}": {tp.partition for tp in m.assignment.topic_partitions}
            for m in described.members}


async def test_two_orders_workers_split_partitions_and_one_can_die(sizes: Sizes, record):
    async with FaultStack(replicas=2) as stack:
        groups = create_runtime(OrdersSettings()).consumer_groups()
        assert GROUP in groups

        async def split() -> dict[str, set[int]] | None:
            held = await asyncio.to_thread(assignment, stack.kafka.bootstrap, GROUP)
            return held if len(held) == 2 and all(held.values()) else None

        held = await eventually(split, timeout=60, interval=0.5, message="two workers to share orders.payments")
        first, second = held.values()
        assert not first & second, f"a partition read by both workers: {held}"
        assert first | second == {0, 1, 2}, f"a partition read by nobody: {held}"

        load = Load(stack, orders=sizes.orders, rate=sizes.rate)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(sizes.orders / sizes.rate / 3)
        workers = [p for p in stack.processes["orders"] if p.role == "worker"]
        workers[0].kill()
        killed_at = time.monotonic()

        async def taken_over() -> dict[str, set[int]] | None:
            held = await asyncio.to_thread(assignment, stack.kafka.bootstrap, GROUP)
            return held if len(held) == 1 and next(iter(held.values())) == {0, 1, 2} else None

        await eventually(taken_over, timeout=90, interval=0.2, message="the surviving worker to hold every partition")
        rebalance = time.monotonic() - killed_at
        await running
        outcome = await count(stack, load, f"2 replicas, one orders worker SIGKILLed (rebalance {rebalance:.1f} s)",
                              healed_at=killed_at + rebalance)
        outcome.notes["rebalance_seconds"] = rebalance
        record(outcome)
