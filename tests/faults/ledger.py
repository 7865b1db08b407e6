"""What a fault test counts from outside once the fault healed: the databases and the topics,
never the services' own word.

- orders: every acknowledged order stored exactly once (no more orders than acknowledged
  requests), order numbers gap-free from #1001;
- events: every event of the merchant's orders on ``flint.orders.events.v1`` also reached the
  app's topic (none lost); no order has two different ``order.created`` (applied twice);
  redelivered copies of one event id are counted (at-least-once; a consumer drops them by
  id); per order, the app topic keeps the events' sequence;
- money: per order, refunds succeeded or pending <= captured (refunds' own table), the
  sandbox ledger moved exactly what the succeeded refunds say, and the order record shows the
  captured and refunded money its events brought (an invoiced order: the card's half plus
  the invoice);
- invoices: every invoice whose payment the buyer saw acknowledged was charged exactly once
  on the sandbox, for its amount, is stored paid, and its ``payment.captured`` is on the
  payments topic; no invoice of the load was charged twice (sandbox) or paid by two payments
  (topic);
- webhooks: every order event on the app's topic also reached the app's endpoint (the test's
  receiver, signatures verified with the SDK), none lost; copies of one event id are counted
  (at-least-once); per order, first deliveries keep the events' sequence;
- how long after the fault healed until all of that held (the backlog drained).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from flint_contracts import event_types as types
from flint_contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS, app_topic
from tests.faults.counts import invoice_counts, out_of_sequence, webhook_counts
from tests.faults.load import REFUND_AMOUNT, Load
from tests.faults.stack import SANDBOX_DB, FaultStack


@dataclass
class Outcome:
    """One row of the fault table."""

    fault: str
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0  # acknowledged, not stored
    extra: int = 0  # stored beyond what was acknowledged (applied twice)
    number_gaps: int = 0
    events_lost: int = 0  # on the orders topic, never on the app topic
    events_applied_twice: int = 0  # two order.created for one order
    redelivered_copies: int = 0  # the same event id more than once on the app topic (info)
    out_of_order: int = 0
    money_mismatches: int = 0
    invoices_paid: int = 0  # invoice payments acknowledged to the buyer (info)
    invoices_charged_twice: int = 0
    invoice_mismatches: int = 0
    webhooks_received: int = 0  # info
    webhooks_lost: int = 0
    webhook_copies: int = 0  # the same event id delivered again (info: at-least-once)
    webhooks_out_of_order: int = 0
    webhooks_unverified: int = 0  # signature did not verify with the endpoint's secret
    unavailable_503: int = 0
    server_errors: int = 0
    drain_seconds: float = 0.0
    notes: dict = field(default_factory=dict)

    @property
    def broken(self) -> dict[str, int]:
        """Every count that must be zero, with its value when it is not."""
        names = ("lost", "extra", "number_gaps", "events_lost", "events_applied_twice", "out_of_order",
                 "money_mismatches", "invoices_charged_twice", "invoice_mismatches", "webhooks_lost",
                 "webhooks_out_of_order", "webhooks_unverified", "server_errors")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


async def _read_all(stack: FaultStack, topics: list[str]) -> dict[str, list[dict]]:
    """Every message of ``topics`` so far (the broker is the test's own: all of it is ours)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka.bootstrap, enable_auto_commit=False,
                                request_timeout_ms=10000)
    await consumer.start()
    try:
        partitions = []
        for topic in topics:
            for _ in range(50):
                if found := consumer.partitions_for_topic(topic):
                    break
                await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client knows no topics yet
                await asyncio.sleep(0.1)
            partitions += [TopicPartition(topic, p) for p in (found or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        messages: dict[str, list[dict]] = defaultdict(list)
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    messages[record.topic].append(orjson.loads(record.value))
        return messages
    finally:
        await consumer.stop()


async def _events(read: dict[str, list[dict]], app_id: str, outcome: Outcome, order_ids: set[str]) -> bool:
    """Fills the event counts; True when nothing of the merchant's is missing on the app topic."""
    source = {e["id"]: e for e in read[ORDERS_EVENTS] if e.get("subject") in order_ids}
    delivered = read[app_topic(app_id)]
    delivered_ids = {e["id"] for e in delivered}
    created: dict[str, set[str]] = defaultdict(set)
    for event in list(source.values()) + delivered:
        if event["type"] == "order.created":
            created[event["subject"]].add(event["id"])
    outcome.events_lost = len(source.keys() - delivered_ids)
    outcome.events_applied_twice = sum(len(ids) - 1 for ids in created.values() if len(ids) > 1)
    outcome.redelivered_copies = len(delivered) - len(delivered_ids)
    outcome.notes["events_on_orders_topic"] = len(source)
    outcome.notes["orders_without_created_on_app_topic"] = len(order_ids - {e["subject"] for e in delivered
                                                                              if e["type"] == "order.created"})
    # partition order is per order (keyed by order id); read in offset order
    outcome.out_of_order = out_of_sequence(delivered)
    return outcome.events_lost == 0 and outcome.notes["orders_without_created_on_app_topic"] == 0


def _webhooks(stack: FaultStack, read: dict[str, list[dict]], outcome: Outcome) -> bool:
    """Fills the webhook counts; True once every order event of the app's topic arrived by webhook."""
    counts = webhook_counts(read[app_topic(stack.app_id)], stack.webhooks.deliveries())
    outcome.webhooks_received, outcome.webhooks_lost = counts.received, counts.lost
    outcome.webhook_copies, outcome.webhooks_out_of_order = counts.copies, counts.out_of_order
    outcome.webhooks_unverified = stack.webhooks.unverified()
    return counts.lost == 0


async def _invoices(stack: FaultStack, read: dict[str, list[dict]], outcome: Outcome, load: Load) -> bool:
    """Fills the invoice counts; True once every acknowledged payment shows everywhere."""
    sandbox = await asyncpg.connect(stack.direct_database(SANDBOX_DB))
    invoicing = await asyncpg.connect(stack.direct_database("flint_invoicing"))
    try:
        charges: dict[str, list[int]] = defaultdict(list)
        for row in await sandbox.fetch("SELECT metadata->>'invoice_id' AS invoice_id, amount FROM sandbox_charges "
                                       "WHERE metadata ? 'invoice_id' ORDER BY created_at"):
            charges[row["invoice_id"]].append(row["amount"])
        stored = {r["id"]: (r["status"], r["paid"]) for r in await invoicing.fetch(
            "SELECT id, status, (doc->'amount_paid'->>'amount')::bigint AS paid FROM invoices WHERE merchant_id = $1",
            stack.merchant_id)}
    finally:
        await sandbox.close()
        await invoicing.close()
    captured: dict[str, set[str]] = defaultdict(set)
    for event in read[PAYMENTS_EVENTS]:
        if event["type"] == types.PAYMENT_CAPTURED and event["data"].get("invoice_id"):
            captured[event["data"]["invoice_id"]].add(event["data"]["payment_id"])
    counts = invoice_counts(set(load.invoices), load.invoices_paid, charges, stored, captured)
    outcome.invoices_paid, outcome.invoices_charged_twice = counts.paid, counts.charged_twice
    outcome.invoice_mismatches = counts.mismatches
    outcome.notes |= {"invoices_created": len(load.invoices), "invoice_problems": counts.details}
    return counts.mismatches == 0 and counts.charged_twice == 0


async def _orders(stack: FaultStack, outcome: Outcome, load: Load) -> None:
    conn = await asyncpg.connect(stack.direct_database("flint_orders"))
    try:
        rows = await conn.fetch("SELECT id, number FROM orders WHERE merchant_id = $1 ORDER BY number", stack.merchant_id)
    finally:
        await conn.close()
    stored = {r["id"] for r in rows}
    acked = set(load.acked.values())
    outcome.acknowledged, outcome.stored = len(acked), len(stored)
    outcome.lost = len(acked - stored)
    # stored but never acknowledged: only a request the client gave up on may explain one
    outcome.extra = max(0, len(stored - acked) - len(load.gave_up))
    numbers = [r["number"] for r in rows]
    outcome.number_gaps = sum(1 for n, expected in zip(numbers, range(1001, 1001 + len(numbers)), strict=True)
                              if n != expected)


async def _money(stack: FaultStack, outcome: Outcome, load: Load) -> bool:
    """Fills the money count; True once every refund settled and every record caught up."""
    refunds = await asyncpg.connect(stack.direct_database("flint_refunds"))
    sandbox = await asyncpg.connect(stack.direct_database(SANDBOX_DB))
    orders = await asyncpg.connect(stack.direct_database("flint_orders"))
    try:
        held = {r["order_id"]: r for r in await refunds.fetch(
            "SELECT order_id, sum((doc->'amount'->>'amount')::bigint) FILTER (WHERE status <> 'failed') AS held, "
            "coalesce(sum((doc->'amount'->>'amount')::bigint) FILTER (WHERE status = 'succeeded'), 0) AS moved, "
            "count(*) FILTER (WHERE status = 'pending') AS pending FROM refunds GROUP BY order_id")}
        ledger = {r["order_id"]: r["moved"] for r in await sandbox.fetch(
            "SELECT c.metadata->>'order_id' AS order_id, coalesce(sum(r.amount), 0) AS moved FROM sandbox_charges c "
            "LEFT JOIN sandbox_refunds r ON r.charge_reference = c.reference GROUP BY 1")}
        records = {r["id"]: r for r in await orders.fetch(
            "SELECT id, (doc->'amounts'->'captured'->>'amount')::bigint AS captured, "
            "(doc->'amounts'->'refunded'->>'amount')::bigint AS refunded FROM orders WHERE merchant_id = $1",
            stack.merchant_id)}
    finally:
        for conn in (refunds, sandbox, orders):
            await conn.close()
    mismatches, settled = 0, True
    for order_id, captured in load.captured.items():
        row = held.get(order_id)
        moved = row["moved"] if row else 0
        if row is not None and (row["held"] or 0) > captured:
            mismatches += 1  # an over-refund: never acceptable, settled or not
        if row is not None and row["pending"]:
            settled = False
            continue
        record = records.get(order_id)
        if ledger.get(order_id, 0) != moved or record is None or record["captured"] != captured \
                or record["refunded"] != moved:
            settled = False
            mismatches += 1
    refunded = sum(1 for order_id in load.refunds if held.get(order_id) and held[order_id]["moved"] == REFUND_AMOUNT)
    outcome.notes |= {"paid_orders": len(load.captured), "refunds": len(load.refunds), "refunds_succeeded": refunded}
    outcome.money_mismatches = mismatches
    return settled and mismatches == 0


async def count(stack: FaultStack, load: Load, fault: str, *, healed_at: float, timeout: float = 90) -> Outcome:
    """Polls until every check holds or ``timeout`` passes; the counts of the last look."""
    outcome = Outcome(fault)
    order_ids = set(load.acked.values())
    deadline = time.monotonic() + timeout
    while True:
        await _orders(stack, outcome, load)
        read = await _read_all(stack, [ORDERS_EVENTS, app_topic(stack.app_id), PAYMENTS_EVENTS])
        done = {"events": await _events(read, stack.app_id, outcome, order_ids),
                "webhooks": _webhooks(stack, read, outcome), "money": await _money(stack, outcome, load),
                "invoices": await _invoices(stack, read, outcome, load)}
        if all(done.values()) or time.monotonic() > deadline:
            break
        # what the drain waited for last: where a long "drain s" went
        outcome.notes["drain_waited_for"] = [name for name, held in done.items() if not held]
        await asyncio.sleep(0.5)
    outcome.drain_seconds = max(0.0, time.monotonic() - max(healed_at, load.finished_at))
    outcome.unavailable_503 = sum(v for k, v in load.statuses.items() if k.endswith(":503"))
    outcome.server_errors = len(load.server_errors) + len(load.bad_unavailable)
    outcome.notes |= {"statuses": dict(load.statuses), "gave_up": load.gave_up[:10],
                      "server_errors": (load.server_errors + load.bad_unavailable)[:5]}
    return outcome
