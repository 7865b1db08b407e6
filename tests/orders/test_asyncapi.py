"""The AsyncAPI document of the orders service: generated from the code, complete, current."""

from __future__ import annotations

import json

from flint_contracts.topics import INSTALLS_EVENTS, INVOICES_EVENTS, ORDERS_COMMANDS, ORDERS_EVENTS, PAYMENTS_EVENTS, \
    REFUNDS_EVENTS, dead_letter_topic
from flint_orders import asyncapi
from flint_orders.domain import ORDER_EVENT_TYPES

CONSUMED = {ORDERS_COMMANDS, PAYMENTS_EVENTS, REFUNDS_EVENTS, INVOICES_EVENTS, INSTALLS_EVENTS}


def test_it_lists_every_topic_orders_consumes_and_produces():
    document = asyncapi.document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == CONSUMED | {ORDERS_EVENTS} | {dead_letter_topic(t, "orders") for t in CONSUMED}
    actions = {(op["action"], document["channels"][op["channel"]["$ref"].split("/")[-1]]["address"])
               for op in document["operations"].values()}
    assert {("receive", t) for t in CONSUMED} <= actions
    assert ("send", ORDERS_EVENTS) in actions


def test_every_published_order_event_and_consumed_payload_has_a_schema():
    document = asyncapi.document()
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert set(ORDER_EVENT_TYPES) <= names
    assert {"payment.captured", "payment.failed", "refund.succeeded", "invoice.paid", "order.create"} <= names
    schemas = document["components"]["schemas"]
    assert {"PaymentCaptured", "RefundData", "InvoiceData", "CreateOrder", "OrderEventData", "Order"} <= set(schemas)
    text = json.dumps(document)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, f"dangling schema reference {ref}"


def test_the_committed_document_is_the_generated_one():
    assert asyncapi.DOCUMENT.read_text() == asyncapi.render(), (
        "docs/asyncapi/orders.json is stale: run `.venv/bin/python -m flint_orders.asyncapi --write`"
    )
