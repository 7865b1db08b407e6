"""Handler dispatch and failure classification through FastStream's in-memory
TestKafkaBroker (fast), with the real database. Delivery itself is proven against the real
broker in test_hostile_messages.py, test_parking.py and test_pipeline.py."""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from flint_chassis.consumer import Conflict, Event, Subscription, SubscriptionConsumer
from flint_contracts import event_types as types
from flint_contracts.event_types import UnknownEventTypeError
from flint_contracts.events import PaymentCaptured, PaymentFailed, build_envelope
from flint_contracts.topics import PAYMENTS_EVENTS
from tests.chassis import ledger
from tests.chassis.consuming import FAST

pytestmark = pytest.mark.integration  # needs PostgreSQL, not Kafka


class Recorder:
    """Handlers that record what they got, and fail as told."""

    def __init__(self) -> None:
        self.got: list[tuple[str, type]] = []
        self.conflicts_left = 0
        self.error: Exception | None = None

    async def captured(self, conn: asyncpg.Connection, event: Event[PaymentCaptured]) -> None:
        if self.conflicts_left:
            self.conflicts_left -= 1
            raise Conflict("the row changed")
        if self.error is not None:
            raise self.error
        self.got.append((event.type, type(event.data)))

    async def failed(self, conn: asyncpg.Connection, event: Event[PaymentFailed]) -> None:
        self.got.append((event.type, type(event.data)))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def broker(pool: asyncpg.Pool, recorder: Recorder) -> KafkaBroker:
    payments = Subscription("payments", PAYMENTS_EVENTS)
    payments.on(types.PAYMENT_CAPTURED)(recorder.captured)
    payments.on(types.PAYMENT_FAILED)(recorder.failed)
    broker = KafkaBroker("unused:9092")

    def rules(error: Exception) -> Exception | None:
        return Conflict(str(error)) if isinstance(error, LookupError) else None

    SubscriptionConsumer(payments, pool, service="ledger", group="ledger.payments", options=FAST,
                         errors=rules).register(broker)
    return broker


def failed_payment():
    captured = ledger.deposit(ledger.account(), 100)
    data = PaymentFailed(payment_id=captured.data["payment_id"], order_id=captured.subject,
                         amount=captured.data["amount"], method="card", processor="sandbox",
                         failure_code="card_declined", failure_message="Declined.", failed_at=captured.time)
    return build_envelope(types.PAYMENT_FAILED, data, source="tests", merchant_id=ledger.MERCHANT)


async def publish(broker: KafkaBroker, *events) -> None:
    async with TestKafkaBroker(broker) as test_broker:
        for event in events:
            await test_broker.publish(event.to_bytes(), PAYMENTS_EVENTS, key=event.subject.encode())


async def test_each_type_reaches_its_own_handler_with_its_contract_model(broker, recorder):
    await publish(broker, ledger.deposit(ledger.account(), 5), failed_payment())
    assert recorder.got == [(types.PAYMENT_CAPTURED, PaymentCaptured), (types.PAYMENT_FAILED, PaymentFailed)]


async def test_an_event_delivered_three_times_is_handled_once(broker, recorder, pool):
    event = ledger.deposit(ledger.account(), 5)
    await publish(broker, event, event, event)
    assert len(recorder.got) == 1
    assert await pool.fetchval("SELECT outcome FROM flint_inbox WHERE message_id = $1", event.id) == "processed"


async def test_a_conflict_is_retried_in_place_and_applied_once(broker, recorder, pool):
    recorder.conflicts_left = 2  # FAST allows two quick retries
    await publish(broker, ledger.deposit(ledger.account(), 5))
    assert len(recorder.got) == 1
    assert await pool.fetchval("SELECT count(*) FROM flint_parked") == 0


async def test_a_conflict_that_persists_is_parked_and_a_service_rule_can_make_one(broker, recorder, pool):
    recorder.error = LookupError("no such row yet")  # the service's rule turns it into a Conflict
    await publish(broker, ledger.deposit(ledger.account(), 5))
    assert recorder.got == []
    assert await pool.fetchval("SELECT code FROM flint_parked") == "conflict"


async def test_a_registered_type_without_a_handler_is_skipped_without_a_trace(pool):
    broker = KafkaBroker("unused:9092")
    captured_only = Subscription("captured-only", PAYMENTS_EVENTS)
    seen = []
    captured_only.on(types.PAYMENT_CAPTURED)(lambda conn, event: _append(seen, event))
    SubscriptionConsumer(captured_only, pool, service="ledger", group="ledger.c", options=FAST).register(broker)
    await publish(broker, failed_payment())
    assert seen == []
    assert await pool.fetchval("SELECT count(*) FROM flint_outbox") == 0  # not a dead letter
    assert await pool.fetchval("SELECT count(*) FROM flint_inbox") == 0


def test_a_handler_for_an_unregistered_type_or_another_topic_fails_at_import():
    payments = Subscription("payments", PAYMENTS_EVENTS)
    with pytest.raises(UnknownEventTypeError):
        payments.on("payment.doubled")(Recorder().captured)
    with pytest.raises(ValueError, match="flint.refunds.events.v1"):
        payments.on(types.REFUND_CREATED)(Recorder().captured)


async def _append(seen: list, event) -> None:
    seen.append(event)
