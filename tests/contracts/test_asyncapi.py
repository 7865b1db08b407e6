"""The AsyncAPI documents: generated from the contracts, complete, current, and describing
exactly what producers send."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from flint_contracts import asyncapi
from flint_contracts.topics import (
    INSTALLS_EVENTS,
    INVOICES_EVENTS,
    ORDERS_COMMANDS,
    ORDERS_EVENTS,
    PAYMENTS_EVENTS,
    REFUNDS_EVENTS,
    dead_letter_topic,
)
from flint_contracts.timeline import ORDER_EVENT_TYPES
from tests.contracts.test_events import ENVELOPED, envelope_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
ORDERS_CONSUMES = {ORDERS_COMMANDS, PAYMENTS_EVENTS, REFUNDS_EVENTS, INVOICES_EVENTS, INSTALLS_EVENTS}


@pytest.mark.parametrize("path", sorted(asyncapi.written(DOCS)), ids=lambda p: p.name)
def test_the_committed_documents_are_the_generated_ones(path: Path) -> None:
    assert path.exists() and path.read_text() == asyncapi.written(DOCS)[path], (
        f"{path.relative_to(DOCS.parents[1])} is stale: run `make asyncapi`"
    )


def test_the_orders_document_lists_every_topic_orders_consumes_and_produces() -> None:
    document = asyncapi.document("orders")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == ORDERS_CONSUMES | {ORDERS_EVENTS} | {dead_letter_topic(t, "orders") for t in ORDERS_CONSUMES}
    actions = {(op["action"], document["channels"][op["channel"]["$ref"].split("/")[-1]]["address"])
               for op in document["operations"].values()}
    assert {("receive", t) for t in ORDERS_CONSUMES} | {("send", ORDERS_EVENTS)} <= actions
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert set(ORDER_EVENT_TYPES) | {"payment.captured", "refund.succeeded", "invoice.paid", "order.create"} <= names
    assert {"OrderEventData", "OrderRecord", "PaymentCaptured", "RefundData", "CreateOrder"} <= set(
        document["components"]["schemas"])


@pytest.mark.parametrize("service", asyncapi.SERVICES)
def test_every_reference_resolves(service: str) -> None:
    document = asyncapi.document(service)
    assert asyncapi._refs(document) <= set(document["components"]["schemas"])  # noqa: SLF001


@pytest.mark.parametrize("type_", sorted(ENVELOPED))
def test_what_a_producer_sends_matches_the_documented_payload(type_: str) -> None:
    # given the document of a service that receives or sends the type, and a producer's envelope
    document = next(d for d in map(asyncapi.document, asyncapi.SERVICES)
                    if type_.replace(".", "_") in d["components"]["messages"])
    message = document["components"]["messages"][type_.replace(".", "_")]
    sent = envelope_of(type_, ENVELOPED[type_]).model_dump(mode="json")
    # then the documented payload schema accepts it, and refuses it under another type
    schema = {"components": document["components"], **message["payload"]}
    jsonschema.Draft202012Validator(schema).validate(sent)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(sent | {"type": "order.exploded"})
