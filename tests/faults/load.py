"""A bounded load a fault test runs while it breaks something: orders created over HTTP at a
steady rate, every ``pay_every``-th one captured on the sandbox (its ``payment.captured``
published as checkout would) and then partly refunded through the refunds API; and every
``invoice_every``-th one (offset by two, so never one of those) paid half by card, the rest
by a hosted invoice (``POST /v1/invoices``, then the buyer's pay page, tests/faults/buyer.py),
then partly refunded too.

Every request carries an ``Idempotency-Key`` and is retried, as a careful client would, until
it is answered or the load's deadline passes: a connection refused or reset, or a 503, is
retried; a 503 must be problem+json with ``Retry-After`` (counted when it is not); any 500 is
a failure of the test. "Acknowledged" means a 201 reached the client (for an invoice's
payment: the receipt, or "This invoice is paid", reached the buyer).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from flint_chassis.outbox import event_headers
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.topics import PAYMENTS_EVENTS
from flint_payments import SandboxProcessor, SandboxSettings, capture_payment, event_type_of
from tests.faults.buyer import pay_hosted_invoice
from tests.faults.stack import SANDBOX_DB, FaultStack

REFUND_AMOUNT = 100  # minor units refunded of each paid order


def order_body(number: int) -> dict[str, Any]:
    return {"customer": {"email": f"buyer{number}@example.com", "name": f"Buyer {number}"}, "currency": "EUR",
            "line_items": [{"sku": "MUG-1", "title": "Mug", "quantity": 1 + number % 3,
                            "unit_price": {"amount": 1500, "currency": "EUR"}, "tax": {"amount": 0, "currency": "EUR"}}],
            "shipping": {"amount": 500, "currency": "EUR"}}


@dataclass
class Load:
    stack: FaultStack
    orders: int
    rate: float
    pay_every: int = 4
    invoice_every: int = 8
    deadline: float = 180.0
    acked: dict[str, str] = field(default_factory=dict)  # idempotency key -> order id
    captured: dict[str, int] = field(default_factory=dict)  # order id -> amount captured
    refunds: dict[str, str] = field(default_factory=dict)  # order id -> refund id
    invoices: dict[str, dict] = field(default_factory=dict)  # invoice id -> the invoice as created
    invoices_paid: dict[str, int] = field(default_factory=dict)  # invoice id -> amount, payment acknowledged
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # any 500: never acceptable
    bad_unavailable: list[str] = field(default_factory=list)  # a 503 without problem+json or Retry-After
    gave_up: list[str] = field(default_factory=list)
    finished_at: float = 0.0

    async def run(self) -> None:
        self._ends = time.monotonic() + self.deadline
        self._apis = {name: itertools.cycle(self.stack.api(name)) for name in ("orders", "refunds", "invoicing")}
        self._producer = AIOKafkaProducer(bootstrap_servers=self.stack.kafka.bootstrap, enable_idempotence=True,
                                          request_timeout_ms=5000, retry_backoff_ms=200)
        await self._producer.start()
        sandbox_settings = SandboxSettings(DATABASE_URL=self.stack.postgres.url, FLINT_SANDBOX_DATABASE=SANDBOX_DB)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        try:
            async with httpx.AsyncClient(timeout=10, limits=limits, headers={
                    "Authorization": f"Bearer {self.stack.token}"}) as self._http, \
                    await SandboxProcessor.open(sandbox_settings) as self._sandbox:
                started, tasks = time.monotonic(), []
                for number in range(self.orders):
                    await asyncio.sleep(max(0.0, started + number / self.rate - time.monotonic()))
                    tasks.append(asyncio.create_task(self._one(number)))
                await asyncio.gather(*tasks)
        finally:
            self.finished_at = time.monotonic()
            await self._producer.stop()

    async def _one(self, number: int) -> None:
        key = f"order-{number}"
        created = await self._post("orders", "/v1/orders", key, order_body(number))
        if created is None:
            return
        order = created.json()
        self.acked[key] = order["id"]
        if number % self.pay_every == 0:
            if await self._pay(order, order["totals"]["total"]["amount"]):
                await self._refund(order)
        elif number % self.invoice_every == 2 and await self._pay_by_invoice(order):
            await self._refund(order)

    async def _pay_by_invoice(self, order: dict[str, Any]) -> bool:
        """Half the order by card, then an invoice for the rest, paid on its hosted page."""
        total = order["totals"]["total"]["amount"]
        by_card = total // 2
        if not await self._pay(order, by_card):
            return False
        rest = {"amount": total - by_card, "currency": "EUR"}
        due = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
        # invoicing answers 422 unknown_order until the order's events reached it
        created = await self._post("invoicing", "/v1/invoices", f"invoice-{order['id']}",
                                   {"order_id": order["id"], "amount": rest, "due_date": due},
                                   retry_codes=("unknown_order",))
        if created is None:
            return False
        invoice = created.json()
        self.invoices[invoice["id"]] = invoice
        paid = await pay_hosted_invoice(self, invoice)
        if not paid:  # outcome unknown to the buyer: the order's money is not checked
            self.captured.pop(order["id"], None)
            return False
        self.invoices_paid[invoice["id"]] = rest["amount"]
        self.captured[order["id"]] += rest["amount"]
        return True

    async def _refund(self, order: dict[str, Any]) -> None:
        refund = await self._post("refunds", "/v1/refunds", f"refund-{order['id']}", {
            "order_id": order["id"], "amount": {"amount": REFUND_AMOUNT, "currency": "EUR"}, "reason": "goodwill"},
            retry_on=(404, 409))  # refunds has not heard of the order or its capture yet
        if refund is not None:
            self.refunds[order["id"]] = refund.json()["id"]

    async def _post(self, service: str, path: str, key: str, body: dict[str, Any], retry_on: tuple[int, ...] = (),
                    retry_codes: tuple[str, ...] = ()) -> httpx.Response | None:
        """``retry_on``: statuses that mean "not yet"; ``retry_codes``: a 422 whose errors carry
        one of these codes means the same."""
        while time.monotonic() < self._ends:
            base = self.next_api(service)
            try:
                response = await self._http.post(f"{base}{path}", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                self.statuses[f"{service}:connection"] += 1
                await asyncio.sleep(0.2)
                continue
            self.statuses[f"{service}:{response.status_code}"] += 1
            if response.status_code == 201:
                return response
            if response.status_code >= 500 and response.status_code != 503:
                self.server_errors.append(f"{service} {path}: {response.status_code} {response.text[:300]}")
            if response.status_code == 503:
                self.check_unavailable(service, response)
            elif response.status_code not in retry_on and response.status_code < 500 \
                    and not _has_code(response, retry_codes):
                self.server_errors.append(f"{service} {path}: unexpected {response.status_code} {response.text[:300]}")
                return None
            await asyncio.sleep(0.2)
        self.gave_up.append(f"{service} {key}")
        return None

    def next_api(self, service: str) -> str:
        """The base URL of the next process answering ``service``'s API (round robin)."""
        return next(self._apis[service]).url

    @property
    def ends(self) -> float:
        """When the load stops retrying (``time.monotonic()``)."""
        return self._ends

    def check_unavailable(self, service: str, response: httpx.Response) -> None:
        """Counts a 503 that is not problem+json ``service_unavailable`` with ``Retry-After``."""
        if (response.headers.get("content-type") != "application/problem+json"
                or not response.headers.get("retry-after") or response.json().get("code") != "service_unavailable"):
            self.bad_unavailable.append(f"{service}: {response.headers} {response.text[:300]}")

    async def _pay(self, order: dict[str, Any], minor_units: int) -> bool:
        """Capture ``minor_units`` of the order on the sandbox (retried with one payment id) and
        publish ``payment.captured`` (retried: a second copy is one event, the same id)."""
        payment_id, amount = new_id("pay"), Money(amount=minor_units, currency="EUR")
        data = None
        while data is None and time.monotonic() < self._ends:
            try:
                data = await capture_payment(self._sandbox, order_id=order["id"], amount=amount, payment_id=payment_id)
            except Exception as error:  # noqa: BLE001 - the database may be down: retry with the same payment id
                self.statuses[f"sandbox:{type(error).__name__}"] += 1
                await asyncio.sleep(0.3)
        if data is None:
            self.gave_up.append(f"capture {order['id']}")
            return False
        envelope = build_envelope(event_type_of(data), data, source="flint.checkout", merchant_id=order["merchant_id"])
        headers = [(k, v.encode()) for k, v in event_headers(envelope)]
        while time.monotonic() < self._ends:
            try:
                await self._producer.send_and_wait(PAYMENTS_EVENTS, envelope.to_bytes(), key=order["id"].encode(),
                                                   headers=headers)
                self.captured[order["id"]] = amount.amount
                return True
            except KafkaError:
                self.statuses["kafka:publish_failed"] += 1
                await asyncio.sleep(0.5)
        self.gave_up.append(f"publish {order['id']}")
        return False


def _has_code(response: httpx.Response, codes: tuple[str, ...]) -> bool:
    """A problem document whose ``errors`` name one of ``codes``."""
    if not codes or response.headers.get("content-type") != "application/problem+json":
        return False
    return any(error.get("code") in codes for error in response.json().get("errors") or [])
