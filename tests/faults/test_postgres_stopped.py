"""PostgreSQL stopped with `-m immediate` (as a crash: no checkpoint, every connection cut)
mid-load, then started again. While it is down, every service's API answers 503
problem+json with Retry-After (never a plain 500), and so does the hosted pay page of an
invoice, and /readyz names the database; afterwards everything catches up by itself: nothing
acknowledged lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import time

from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.conftest import Sizes
from tests.faults.ledger import count
from tests.faults.load import Load
from tests.faults.stack import FaultStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def probes(pay_page: str) -> list[tuple[str, str, str, dict | None]]:
    """A request that needs the database, per service: (service, method, path, JSON body)."""
    return [
        ("orders", "GET", "/v1/orders?limit=5", None),
        ("orders", "POST", "/v1/orders", {"customer": {"email": "a@example.com", "name": "A"}, "currency": "EUR",
                                          "line_items": [{"title": "Mug", "quantity": 1, "unit_price": {
                                              "amount": 100, "currency": "EUR"}}]}),
        ("refunds", "GET", "/v1/refunds?limit=5", None),
        ("invoicing", "GET", "/v1/invoices?limit=5", None),
        ("invoicing", "GET", pay_page, None),  # the buyer's page, mounted beside the API
        ("installs", "GET", "/v1/installs", None),
    ]


async def unavailable_answers(stack: FaultStack, pay_page: str) -> list[str]:
    """Each probe until it is answered (the services notice the outage on their next query);
    what was wrong with any answer that is not a 503 problem with Retry-After."""
    wrong = []
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        for service, method, path, body in probes(pay_page):
            url = stack.api(service)[0].url
            response = await client.request(method, f"{url}{path}", json=body)
            if (response.status_code != 503 or response.headers.get("content-type") != "application/problem+json"
                    or not response.headers.get("retry-after") or response.json().get("code") != "service_unavailable"):
                wrong.append(f"{service} {method} {path}: {response.status_code} {response.headers.get('content-type')} "
                             f"retry-after={response.headers.get('retry-after')} {response.text[:200]}")
            ready = await client.get(f"{url}/readyz")
            if ready.status_code != 503 or "database" not in ready.text.lower():
                wrong.append(f"{service} /readyz: {ready.status_code} {ready.text[:200]}")
    return wrong


async def test_postgres_stopped_immediately_mid_load(sizes: Sizes, record):
    async with FaultStack() as stack:
        load = Load(stack, orders=sizes.orders, rate=sizes.rate)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(sizes.orders / sizes.rate / 3)
        invoice = await eventually(lambda: next(iter(load.invoices.values()), None), timeout=30, interval=0.1,
                                   message="an invoice of the load, for its pay page")
        stopped_at = time.monotonic()
        await asyncio.to_thread(stack.postgres.stop_immediately)
        wrong = await unavailable_answers(stack, urlsplit(invoice["hosted_url"]).path)
        await asyncio.sleep(max(0.0, sizes.postgres_down - (time.monotonic() - stopped_at)))
        await asyncio.to_thread(stack.postgres.start)
        healed_at = time.monotonic()
        await running
        outcome = await count(stack, load, f"PostgreSQL stopped -m immediate {sizes.postgres_down:g} s",
                              healed_at=healed_at)
        outcome.server_errors += len(wrong)
        outcome.notes["while_down"] = wrong
        record(outcome)
