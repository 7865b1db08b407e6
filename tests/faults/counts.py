"""The ledger's arithmetic, apart from where its inputs come from (tests/faults/ledger.py reads
them from the databases, the topics and the webhook receiver), so tests/faults/test_counts.py
can show each count catches what it is meant to catch without a stack.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


def out_of_sequence(events: list[dict]) -> int:
    """Events that came after a later event of the same order (``sequence`` per ``subject``),
    looking at the first copy of each event id only: a redelivered copy of an early event
    arriving late is at-least-once, not disorder."""
    seen: set[str] = set()
    last: dict[str, int] = {}
    behind = 0
    for event in events:
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        sequence = event.get("sequence") or 0
        if sequence < last.get(event["subject"], 0):
            behind += 1
        last[event["subject"]] = max(sequence, last.get(event["subject"], 0))
    return behind


@dataclass(frozen=True)
class WebhookCounts:
    received: int  # deliveries answered 200, copies included
    lost: int  # order events on the app's topic never delivered by webhook
    copies: int  # deliveries of an event id already delivered (at-least-once; information)
    out_of_order: int  # per order, a first delivery behind a later event's


def webhook_counts(app_events: list[dict], deliveries: list[dict]) -> WebhookCounts:
    """``app_events``: the app's topic in offset order; ``deliveries``: the webhooks as they arrived."""
    orders = [d for d in deliveries if d["type"].startswith("order.")]
    expected = {e["id"] for e in app_events if e["type"].startswith("order.")}
    delivered = [d["id"] for d in deliveries]
    return WebhookCounts(received=len(deliveries), lost=len(expected - set(delivered)),
                         copies=len(delivered) - len(set(delivered)), out_of_order=out_of_sequence(orders))


@dataclass(frozen=True)
class InvoiceCounts:
    paid: int  # invoices whose payment the buyer saw acknowledged
    charged_twice: int  # invoices charged more than once on the sandbox, or with two payments on Kafka
    mismatches: int  # acknowledged, but not exactly one charge of its amount, not paid, or no payment.captured
    details: dict[str, list[str]]


def invoice_counts(created: set[str], acknowledged: dict[str, int], charges: dict[str, list[int]],
                   stored: dict[str, tuple[str, int]], captured: dict[str, set[str]]) -> InvoiceCounts:
    """``created``: every invoice the load made; ``acknowledged``: invoice id -> amount the buyer
    saw paid; ``charges``: invoice id -> the sandbox's charges of it; ``stored``: invoice id ->
    (status, amount paid) in invoicing's database; ``captured``: invoice id -> payment ids of
    ``payment.captured`` on the payments topic."""
    details: dict[str, list[str]] = defaultdict(list)
    for invoice_id in created:
        if len(charges.get(invoice_id, [])) > 1 or len(captured.get(invoice_id, set())) > 1:
            details["charged_twice"].append(invoice_id)
    for invoice_id, amount in acknowledged.items():
        if charges.get(invoice_id) != [amount]:
            details["not_one_charge_of_its_amount"].append(invoice_id)
        if stored.get(invoice_id) != ("paid", amount):
            details["not_stored_paid"].append(invoice_id)
        if not captured.get(invoice_id):
            details["no_payment_captured_event"].append(invoice_id)
    wrong = {i for kind, ids in details.items() if kind != "charged_twice" for i in ids}
    return InvoiceCounts(paid=len(acknowledged), charged_twice=len(details["charged_twice"]), mismatches=len(wrong),
                         details=dict(details))
