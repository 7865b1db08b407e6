"""Order events (``flint.orders.events.v1``, keyed by order id): every published change of an
order, with the whole record after it.

Per order they arrive in ``sequence`` order, and the envelope's ``sequence`` and ``version``
are the order's version after the change; ``previous`` holds the changed fields' former
values (the ``from`` of each change).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import ConfigDict, Field, StrictInt, ValidationInfo, model_validator

from flint_contracts import event_types as types
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import EventData
from flint_contracts.fields import AppId, Tag, example_id
from flint_contracts.limits import MAX_REASON_LENGTH
from flint_contracts.order import (
    EXAMPLE_NOTE,
    EXAMPLE_ORDER,
    EXAMPLE_PAYMENT,
    EXAMPLE_REFUND,
    AppMetadata,
    Note,
    OrderRecord,
    Payment,
    Refund,
)
from flint_contracts.text import SafeStr
from flint_contracts.timeline import ORDER_EVENT_TYPES, FieldChange, TimelineType

# What each type carries besides the order, and the timeline types it is published for.
_DETAIL: dict[str, tuple[str, ...]] = {
    types.ORDER_CREATED: ("number",),
    types.ORDER_PAID: ("payment",),
    types.ORDER_PARTIALLY_PAID: ("payment",),
    types.ORDER_REFUNDED: ("refund",),
    types.ORDER_PARTIALLY_REFUNDED: ("refund",),
    types.ORDER_CANCELED: ("reason",),
    types.ORDER_NOTE_ADDED: ("note",),
    types.ORDER_METADATA_UPDATED: ("app_id", "metadata"),
    types.REFUND_CREATED: ("refund",),
    types.REFUND_FAILED: ("refund",),
}


class OrderEventData(EventData):
    """The ``data`` of every ``order.*`` event: the order after the change, who changed it,
    what changed, and what the change was about.

    ``timeline_type`` is the timeline entry the event comes from: it equals the event type,
    except for ``order.updated``, which is also published for a refund requested
    (``refund.created``) or failed (``refund.failed``), a payment that neither paid the order
    nor part of it (``order.updated``), and a tag added or removed. What the change was about
    rides beside the order: ``number`` (created), ``payment`` (paid, partially paid, a
    further capture), ``refund`` (refunded, partially refunded, and the ``order.updated`` of a
    refund requested or failed, with its lines, amounts, reason and actor), ``reason``
    (canceled), ``note`` (note added), ``app_id`` + ``metadata`` (metadata updated),
    ``added`` / ``removed`` (a tag).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order": EXAMPLE_ORDER,
                    "timeline_type": "order.created",
                    "actor": {"type": "merchant", "id": example_id("mer")},
                    "changes": {},
                    "number": 1001,
                }
            ]
        }
    )
    subject_field = "order_id"

    order: OrderRecord = Field(description="The whole order record after the change.", examples=[EXAMPLE_ORDER])
    timeline_type: TimelineType = Field(description="The timeline entry this event comes from.",
                                        examples=["order.paid", "refund.created"])
    actor: Actor = Field(description="Who made the change.", examples=[{"type": "app", "id": example_id("app")}])
    changes: dict[str, FieldChange] = Field(
        description="Every changed field with `from` and `to` (flattened: `amounts.captured`).",
        examples=[{"payment_status": {"from": "unpaid", "to": "paid"}}],
    )
    number: StrictInt | None = Field(default=None, ge=1, description="order.created: the order's number.",
                                     examples=[1001])
    payment: Payment | None = Field(default=None, description="The payment captured.", examples=[EXAMPLE_PAYMENT])
    refund: Refund | None = Field(default=None, description="The refund, with its lines, amounts, reason and actor.",
                                  examples=[EXAMPLE_REFUND])
    reason: SafeStr | None = Field(default=None, min_length=1, max_length=MAX_REASON_LENGTH,
                                   description="order.canceled: why.", examples=["Customer changed their mind."])
    note: Note | None = Field(default=None, description="order.note_added: the note.", examples=[EXAMPLE_NOTE])
    app_id: AppId | None = Field(default=None, description="order.metadata_updated: whose namespace changed.",
                                 examples=[example_id("app")])
    metadata: AppMetadata | None = Field(default=None, description="order.metadata_updated: the app's whole "
                                                                    "namespace now (`{}` when removed).",
                                          examples=[{"loyalty_points": 120}])
    added: Tag | None = Field(default=None, description="A tag added.", examples=["vip"])
    removed: Tag | None = Field(default=None, description="A tag removed.", examples=["vip"])

    @property
    def order_id(self) -> str:
        """The order the event is about (the envelope's subject)."""
        return self.order.id

    @property
    def merchant_id(self) -> str:
        return self.order.merchant_id

    @model_validator(mode="after")
    def _carries_its_detail(self) -> Self:
        missing = [name for name in _DETAIL.get(self.timeline_type, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.timeline_type} change must carry {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _sequence_is_the_orders_version(self, info: ValidationInfo) -> Self:
        envelope = (info.context or {}).get("envelope")
        if envelope is not None and not envelope.sequence == envelope.version == self.order.version:
            raise ValueError(f"the envelope's sequence and version must both be the order's version "
                             f"{self.order.version}, got {envelope.sequence} and {envelope.version}")
        return self

    def check_type(self, type_: str) -> None:
        published_as_itself = self.timeline_type in ORDER_EVENT_TYPES
        if type_ == types.ORDER_UPDATED and published_as_itself and self.timeline_type != type_:
            raise ValueError(f"a {self.timeline_type} change is published as {self.timeline_type}, not {type_}")
        if type_ != types.ORDER_UPDATED and self.timeline_type != type_:
            raise ValueError(f"a {type_} event must come from a {type_} change, not {self.timeline_type}")


def previous_of(changes: dict[str, Any]) -> dict[str, Any]:
    """The envelope's ``previous``: the ``from`` of every change."""
    return {name: change["from"] for name, change in changes.items()}


__all__ = ["OrderEventData", "previous_of"]
