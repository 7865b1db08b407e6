"""Which events a plugin has handled already, by event id.

Kafka delivers at least once: after a crash or a rebalance, events whose offsets were not
committed yet come again, with the same ``id``. :class:`~flint_sdk.plugin.Plugin` skips an
id it has handled, checking a bounded in-memory set first and then, when given one, a
:class:`DedupStore` that outlives the process.

For effects that must happen exactly once, record the event id in the same database
transaction as the effect, and give the plugin a store that reads that table.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol, runtime_checkable


@runtime_checkable
class DedupStore(Protocol):
    """Somewhere lasting to remember handled event ids (a table, a key-value store)."""

    async def seen(self, event_id: str) -> bool:
        """True when ``event_id`` was handled before."""
        ...

    async def remember(self, event_id: str) -> None:
        """Record ``event_id`` as handled."""
        ...


class RecentIds:
    """The last ``capacity`` ids handled, in memory; the oldest are forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


class MemoryDedupStore:
    """A :class:`DedupStore` in memory (for tests, or plugins that need nothing more)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._ids = RecentIds(capacity)

    async def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    async def remember(self, event_id: str) -> None:
        self._ids.add(event_id)
