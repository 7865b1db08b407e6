"""How a consumed message becomes a handler call: its data parsed as its contract model,
and what can never succeed turned into a ``PermanentError`` (dead-lettered with the reason)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flint_chassis.errors import PermanentError, RetryLater
from flint_contracts.envelope import EventEnvelope
from flint_orders.domain import DomainError
from flint_orders.handlers import OrderNotFound

Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], event: EventEnvelope) -> Model:
    """The event's data as its contract model, checked against the envelope; a payload that
    does not fit can never be processed."""
    try:
        return model.model_validate(event.data, context={"envelope": event})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "data"
        raise PermanentError(f"invalid {event.type} data: {where}: {first.get('msg')}", code="invalid_event") from None


async def applying(change: Awaitable[Any]) -> Any:
    """Runs a handler, turning what can never succeed into a PermanentError with its reason."""
    try:
        return await change
    except OrderNotFound as missing:
        # Topics have no order between them: a payment may arrive just before the command
        # that creates its order. Retry for a while before calling it a dead letter.
        raise RetryLater(f"unknown order {missing} for this merchant", code="unknown_order") from None
    except DomainError as refused:
        raise PermanentError(str(refused), code=refused.code) from None


def unknown_type(event: EventEnvelope) -> Any:
    raise PermanentError(f"the orders service does not handle {event.type!r} events", code="unknown_type")
