"""What the consumer decides for one message, without Kafka: the cases the broker tests in
test_plugin.py do not reach."""

from __future__ import annotations

from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from flint_sdk import Event
from flint_sdk.dispatch import Dispatcher, Outcome, Record
from tests.contracts import contract_samples as make


def record(envelope: EventEnvelope | bytes) -> Record:
    value = envelope if isinstance(envelope, bytes) else envelope.to_bytes()
    return Record("flint.app.x.v1", 0, 7, b"ord", value)


def refund_created() -> EventEnvelope:
    return build_envelope("refund.created", make.refund(), source="flint.refunds", merchant_id=new_id("mer"))


async def test_data_that_does_not_fit_its_model_fails_at_once_without_calling_the_handler():
    calls: list[Event] = []
    dispatcher = Dispatcher(attempts=5, retry_backoff=0.001)

    async def handler(event: Event) -> None:
        calls.append(event)

    dispatcher.add("refund.created", handler)
    broken = refund_created().model_copy(update={"data": {"refund_id": "not-a-refund"}})
    assert await dispatcher.dispatch(record(broken)) is Outcome.STOPPED
    assert calls == [] and dispatcher.failure.attempts == 0 and dispatcher.failure.event.id == broken.id


async def test_a_skip_that_cannot_be_recorded_stops_instead():
    def unrecordable(failure) -> None:
        raise OSError("disk full")

    async def failing(event: Event) -> None:
        raise RuntimeError("a bug")

    dispatcher = Dispatcher(attempts=1, on_failure="skip", on_skip=unrecordable)
    dispatcher.add("refund.created", failing)
    event = refund_created()
    assert await dispatcher.dispatch(record(event)) is Outcome.STOPPED
    assert dispatcher.failure.event.id == event.id


async def test_a_type_without_a_handler_is_ignored_and_an_async_recorder_is_awaited():
    recorded = []

    async def record_it(failure) -> None:
        recorded.append(failure.value)

    dispatcher = Dispatcher(on_failure="skip", on_skip=record_it)
    assert await dispatcher.dispatch(record(refund_created())) is Outcome.IGNORED
    assert await dispatcher.dispatch(record(b"{}")) is Outcome.SKIPPED
    assert recorded == [b"{}"]
