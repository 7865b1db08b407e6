"""SIGKILL a service process mid-load, start it again: nothing acknowledged is lost or applied
twice, every event reaches the app's topic, the money adds up."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import LONG, Sizes
from tests.faults.ledger import count
from tests.faults.load import Load
from tests.faults.stack import FaultStack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# Short: the orders service (its API and its relay, one process). Long: every service in turn.
KILLED = ("orders", "installs", "refunds", "invoicing") if LONG else ("orders",)


async def test_a_service_killed_mid_load_loses_nothing_and_applies_nothing_twice(sizes: Sizes, record):
    async with FaultStack() as stack:
        load = Load(stack, orders=sizes.orders, rate=sizes.rate)
        running = asyncio.create_task(load.run())
        for name in KILLED:
            await asyncio.sleep(sizes.orders / sizes.rate / (len(KILLED) + 2))
            process = stack.processes[name][0]
            process.kill()
            await asyncio.sleep(1)  # down for a moment: requests meanwhile are refused
            await stack.restart(process)
        healed_at = time.monotonic()
        await running
        outcome = await count(stack, load, f"SIGKILL {', '.join(KILLED)}", healed_at=healed_at)
        record(outcome)
