"""What a message is before any handler runs: a valid event for a handler, a valid event
this subscription does not handle, or something that can never be processed (and why)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from flint_chassis.consumer.event import Event
from flint_chassis.consumer.message import Message
from flint_chassis.consumer.subscription import Route, Subscription
from flint_contracts import event_types
from flint_contracts.envelope import EventEnvelope

_NOT_AN_OBJECT = {"json_invalid", "json_type", "model_type", "model_attributes_type", "dict_type"}


@dataclass(frozen=True)
class Deliver:
    """A valid event with a handler."""

    event: Event
    route: Route


@dataclass(frozen=True)
class Skip:
    """A valid event of a registered type this subscription has no handler for."""

    envelope: EventEnvelope


@dataclass(frozen=True)
class Refuse:
    """Never processable: dead-letter at once. ``envelope`` is None when there is none."""

    reason: str
    code: str
    envelope: EventEnvelope | None = None


def classify(message: Message, subscription: Subscription) -> Deliver | Skip | Refuse:
    try:
        envelope = EventEnvelope.from_bytes(message.value)
    except ValidationError as error:
        first = error.errors()[0]
        if first.get("type") in _NOT_AN_OBJECT:
            return Refuse(f"malformed event: not a JSON event envelope: {first.get('msg')}", "malformed")
        if first.get("loc", ("",))[0] == "data":  # the envelope is sound, its payload is not
            return Refuse(f"invalid event data: {_where(first, 'data')}", "invalid_event")
        return Refuse(f"invalid envelope: {_where(first, 'envelope')}", "invalid_envelope")
    if envelope.type not in event_types.REGISTRY:
        return Refuse(f"unknown event type {envelope.type!r}", "unknown_type", envelope)
    route = subscription.routes.get(envelope.type)
    if route is None:
        return Skip(envelope)
    if route.model is None:
        return Deliver(Event(envelope, envelope.data, message.value), route)
    try:
        data = route.model.model_validate(envelope.data, context={"envelope": envelope})
    except ValidationError as error:
        return Refuse(f"invalid {envelope.type} data: {_where(error.errors()[0], 'data')}", "invalid_event", envelope)
    return Deliver(Event(envelope, data, message.value), route)


def _where(error: dict, default: str) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or default
    return f"{where}: {error.get('msg')}"
