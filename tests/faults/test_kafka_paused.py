"""Kafka SIGSTOPped mid-load (it holds every connection open and answers nothing), then
resumed: the API keeps acknowledging orders (they wait in the outbox), and once the broker is
back every event reaches the app's topic, none lost and none applied twice."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import Sizes
from tests.faults.ledger import count
from tests.faults.load import Load
from tests.faults.stack import FaultStack

pytestmark = [pytest.mark.integration, pytest.mark.faults]


async def test_kafka_paused_mid_load(sizes: Sizes, record):
    async with FaultStack() as stack:
        load = Load(stack, orders=sizes.orders, rate=sizes.rate)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(sizes.orders / sizes.rate / 4)
        stack.kafka.pause()
        try:
            await asyncio.sleep(sizes.kafka_pause)
        finally:
            stack.kafka.resume()
        healed_at = time.monotonic()
        await running
        outcome = await count(stack, load, f"Kafka SIGSTOP {sizes.kafka_pause:g} s", healed_at=healed_at)
        record(outcome)
