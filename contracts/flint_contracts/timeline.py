"""An order's timeline: the types its entries have, and an entry as the API shows it.

Every change of an order appends one entry with a gap-free per-order ``sequence``. Entries
of an ``order.*`` type are published as that event; the others (``TIMELINE_ONLY_TYPES``)
stay on the timeline, because their source service publishes the fact itself, and reach
plugins as ``order.updated`` only when they changed the order's status or amounts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt

from flint_contracts import event_types as types
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel
from flint_contracts.fields import EventId, example_id
from flint_contracts.topics import INVOICES_EVENTS, ORDERS_EVENTS

EVENT_REJECTED = "event.rejected"
"""A consumed event about the order was dead-lettered (timeline only)."""

ORDER_EVENT_TYPES: tuple[str, ...] = tuple(t.name for t in types.for_topic(ORDERS_EVENTS))
"""Types published on ``flint.orders.events.v1``, in registry order."""

TIMELINE_ONLY_TYPES: tuple[str, ...] = (
    types.PAYMENT_FAILED,
    types.REFUND_CREATED,
    types.REFUND_FAILED,
    *(t.name for t in types.for_topic(INVOICES_EVENTS)),
    EVENT_REJECTED,
)
"""Types that only appear on the timeline."""

INVOICE_TIMELINE_TYPES: frozenset[str] = frozenset(t.name for t in types.for_topic(INVOICES_EVENTS))

TIMELINE_TYPES: dict[str, str] = {
    **{name: types.REGISTRY[name].label for name in ORDER_EVENT_TYPES + TIMELINE_ONLY_TYPES if name in types.REGISTRY},
    EVENT_REJECTED: "Event rejected",
}
"""Every timeline type with its human-readable label."""

TimelineType = Literal[tuple(TIMELINE_TYPES)]  # type: ignore[valid-type]


class FieldChange(ContractModel):
    """One changed field: its value before and after (``null`` when it did not exist)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    before: Any = Field(alias="from", description="The value before the change.", examples=["unpaid"])
    after: Any = Field(alias="to", description="The value after the change.", examples=["paid"])


class TimelineEntry(ContractModel):
    """One change of one order, as ``GET /v1/orders/{id}/timeline`` lists it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sequence": 2,
                    "type": "order.paid",
                    "at": "2026-11-27T12:00:00Z",
                    "actor": {"type": "system", "id": "flint.checkout"},
                    "changes": {"payment_status": {"from": "unpaid", "to": "paid"}},
                    "data": {"payment": {"id": example_id("pay")}},
                    "event_id": example_id("evt"),
                }
            ]
        }
    )

    sequence: StrictInt = Field(ge=1, description="Gap-free per order; the order's version after it.", examples=[2])
    type: TimelineType = Field(description="What happened.", examples=["order.paid"])
    at: AwareDatetime = Field(description="When it happened.", examples=["2026-11-27T12:00:00Z"])
    actor: Actor = Field(description="Who did it.")
    changes: dict[str, FieldChange] = Field(
        description="Every changed field, flattened (`amounts.captured`, `refunds.<id>.status`).",
        examples=[{"payment_status": {"from": "unpaid", "to": "paid"}}],
    )
    data: dict[str, Any] = Field(description="What the entry is about: the payment, refund, note ...")
    event_id: EventId | None = Field(
        default=None, description="The order event published for it; null when it stays on the timeline.",
        examples=[example_id("evt")],
    )
