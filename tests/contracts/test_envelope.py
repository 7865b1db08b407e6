"""The envelope every topic carries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import is_id, new_id


def order_paid() -> EventEnvelope:
    return EventEnvelope(
        type="order.paid",
        source="flint.orders",
        time=datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        merchant_id=new_id("mer"),
        subject=new_id("ord"),
        sequence=3,
        version=4,
        data={"order": {"total": {"amount": 1250, "currency": "EUR"}}},
        previous={"payment_status": "unpaid"},
    )


def test_an_envelope_survives_bytes_and_back_unchanged() -> None:
    envelope = order_paid()
    received = EventEnvelope.from_bytes(envelope.to_bytes())
    assert received == envelope
    assert received.time == datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_an_envelope_gets_a_stable_event_id_and_an_aware_time() -> None:
    envelope = EventEnvelope(type="order.paid", source="flint.orders")
    assert is_id(envelope.id, "evt")
    assert envelope.time.tzinfo is not None
    assert EventEnvelope.from_bytes(envelope.to_bytes()).id == envelope.id


@pytest.mark.parametrize(
    "change",
    [
        {"surprise": True},
        {"time": "2026-11-27T12:00:00"},
        {"sequence": 0},
        {"version": -1},
    ],
    ids=["unknown field", "naive time", "sequence zero", "negative version"],
)
def test_a_malformed_envelope_is_refused(change: dict[str, object]) -> None:
    fields = order_paid().model_dump(mode="json") | change
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate(fields)
