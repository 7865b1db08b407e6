"""The order's timeline: one entry per change, with a gap-free per-order ``sequence``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts import event_types as types
from flint_orders.domain.event_types import ORDER_EVENT_TYPES
from flint_orders.domain.values import Actor, time_json, time_of


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One change of one order. ``sequence`` is gap-free per order and equals the order's
    version after the change. ``changes`` maps a field to ``{"from": old, "to": new}``."""

    order_id: str
    sequence: int
    type: str
    at: datetime
    actor: Actor
    changes: dict[str, dict[str, Any]]
    data: dict[str, Any]

    @property
    def version(self) -> int:
        return self.sequence

    @property
    def previous(self) -> dict[str, Any]:
        """Previous values of the changed fields, as order events carry them."""
        return {name: change["from"] for name, change in self.changes.items()}

    @property
    def event_type(self) -> str | None:
        """The order event this entry is published as, or None when it stays on the timeline."""
        if self.type in ORDER_EVENT_TYPES:
            return self.type
        if any(is_order_level(name) for name in self.changes):
            return types.ORDER_UPDATED
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "sequence": self.sequence, "type": self.type, "at": time_json(self.at),
                "actor": self.actor.to_dict(), "changes": self.changes, "data": self.data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimelineEntry:
        return cls(order_id=data["order_id"], sequence=data["sequence"], type=data["type"], at=time_of(data["at"]),
                   actor=Actor.from_dict(data["actor"]), changes=data["changes"], data=data["data"])


def is_order_level(field: str) -> bool:
    """Fields every reader of the order cares about: a change to one is worth an order.updated."""
    return field in ("status", "payment_status") or field.startswith("amounts.")


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = list(before) + [name for name in after if name not in before]
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in names
        if before.get(name) != after.get(name)
    }
