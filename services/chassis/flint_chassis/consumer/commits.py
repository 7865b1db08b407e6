"""When a consumer commits its Kafka offsets.

Committing after every message costs a broker round trip per message, which is what bounds a
consumer working through a backlog. Since the inbox stops a message taken care of before, a
commit may trail the work: a consumer that is behind commits after ``commit_every`` messages
or ``commit_interval`` seconds, whichever comes first; one that has caught up with what the
broker last told it commits after every message, so an idle consumer never sits on an
uncommitted offset. Whatever a crash, a shutdown or a rebalance leaves uncommitted is read
again by the partition's next owner and stopped by the inbox as a duplicate (logged at INFO).

Only messages already taken care of are ever committed: FastStream hands a consumer's
messages to its handler one at a time, and ``commit()`` commits what was handed out.
"""

from __future__ import annotations

import time
from typing import Any

from aiokafka import TopicPartition


class CommitPacing:
    """Decides, per Kafka consumer, whether the message just taken care of is committed now."""

    def __init__(self, every: int, interval: float) -> None:
        self._every = every
        self._interval = interval
        self._behind: dict[int, tuple[int, float]] = {}  # id(consumer): (uncommitted messages, since when)

    def due(self, consumer: Any, topic: str, partition: int, offset: int) -> bool:
        """True when the offset after ``offset`` should be committed now."""
        highwater = _highwater(consumer, topic, partition)
        if highwater is None or offset + 1 >= highwater:
            return True  # caught up (or the broker's end is unknown): commit what is done
        count, since = self._behind.get(id(consumer), (0, time.monotonic()))
        count += 1
        if count >= self._every or time.monotonic() - since >= self._interval:
            return True
        self._behind[id(consumer)] = (count, since)
        return False

    def committed(self, consumer: Any) -> None:
        self._behind.pop(id(consumer), None)

    def uncommitted(self) -> int:
        """Messages taken care of and not committed yet, over all consumers (for tests and logs)."""
        return sum(count for count, _ in self._behind.values())


def _highwater(consumer: Any, topic: str, partition: int) -> int | None:
    highwater = getattr(consumer, "highwater", None)  # FastStream's test consumer has none
    if highwater is None:
        return None
    try:
        return highwater(TopicPartition(topic, partition))
    except Exception:  # the partition was just revoked: commit (and let the commit refuse)
        return None
