"""Connections cut mid-stream (reset, as a dropped link) by a TCP proxy between the services
and PostgreSQL, and between everyone and Kafka (the broker advertises the proxy, so every
Kafka connection, consumers mid-batch included, goes through it). Each link is cut a few
times under load; nothing acknowledged is lost or applied twice, everything catches up."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import LONG, Sizes
from tests.faults.ledger import count
from tests.faults.load import Load
from tests.faults.stack import FaultStack

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CUTS = 6 if LONG else 3


@pytest.mark.parametrize("link", ["postgres", "kafka"])
async def test_connections_cut_mid_load(sizes: Sizes, record, link: str):
    async with FaultStack(proxy_kafka=link == "kafka", proxy_postgres=link == "postgres") as stack:
        proxy = stack.kafka_proxy if link == "kafka" else stack.postgres_proxy
        load = Load(stack, orders=sizes.orders, rate=sizes.rate)
        running = asyncio.create_task(load.run())
        duration = sizes.orders / sizes.rate
        cut = 0
        for _ in range(CUTS):
            await asyncio.sleep(duration / (CUTS + 1))
            cut += await asyncio.to_thread(proxy.cut)
        healed_at = time.monotonic()
        await running
        outcome = await count(stack, load, f"{link} connections cut x{CUTS} ({cut} conns)", healed_at=healed_at)
        outcome.notes["connections_cut"] = cut
        record(outcome)
        assert cut >= CUTS, "the proxy had nothing to cut: the services do not go through it"
