"""A plugin reads an order event (webhook body or Kafka value) as typed models, with the SDK
and the contracts only."""

from __future__ import annotations

import subprocess
import sys

from flint_contracts.events import OrderEventData, build_envelope
from flint_sdk.events import read_event
from tests.contracts import contract_samples as make


def test_an_order_event_reads_back_with_its_whole_order():
    # given an order.paid event as Flint publishes it
    data = make.order_event("order.paid")
    sent = build_envelope("order.paid", data, source="flint.orders", sequence=data.order.version,
                          version=data.order.version)
    # when a plugin reads the bytes
    event = read_event(sent.to_bytes())
    # then it has the envelope and the order record, typed
    assert (event.id, event.type) == (sent.id, "order.paid")
    assert isinstance(event.data, OrderEventData)
    assert event.data.order.id == sent.subject and event.data.payment == data.payment


def test_reading_events_needs_no_flint_service():
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, flint_sdk.events; "
                               "print(sorted(m for m in sys.modules if m.startswith('flint_')))"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "flint_contracts" in imported and "flint_orders" not in imported and "flint_chassis" not in imported
