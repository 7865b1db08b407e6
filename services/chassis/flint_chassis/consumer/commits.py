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

A rebalance (a replica or another consumer of the subscription joining or leaving) takes
partitions away from a consumer: ``CommitOnRevoke`` then commits what it has taken care of
on them, so their next owner starts where the work stopped. Only a crash (or a stop) leaves
messages to read again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger("flint.consumer")


class CommitPacing:
    """Decides, per Kafka consumer, whether the message just taken care of is committed now."""

    def __init__(self, every: int, interval: float) -> None:
        self._every = every
        self._interval = interval
        self._behind: dict[int, tuple[int, float]] = {}  # id(consumer): (uncommitted messages, since when)
        self._done: dict[TopicPartition, tuple[Any, int]] = {}  # uncommitted: (consumer, next offset)

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
        self._done[TopicPartition(topic, partition)] = (consumer, offset + 1)
        return False

    def committed(self, consumer: Any) -> None:
        """``consumer`` committed everything it was handed."""
        self._behind.pop(id(consumer), None)
        self._done = {tp: done for tp, done in self._done.items() if done[0] is not consumer}

    def assigned(self, tps: Iterable[TopicPartition]) -> None:
        """A new assignment starts at the group's committed offsets: nothing of this
        process's is pending on those partitions (an entry left by a message that finished
        after its partition was revoked would otherwise be committed later, backwards)."""
        for tp in tps:
            self._done.pop(tp, None)

    async def commit_revoked(self, revoked: Iterable[TopicPartition], name: str) -> dict[TopicPartition, int]:
        """Commits what was taken care of and not committed on the ``revoked`` partitions,
        by the consumer that did it; returns those offsets. A refused commit is logged: the
        partitions' next owners read those messages again, and the inbox stops them."""
        by_consumer: dict[int, tuple[Any, dict[TopicPartition, int]]] = {}
        for tp in revoked:
            if (done := self._done.pop(tp, None)) is not None:
                by_consumer.setdefault(id(done[0]), (done[0], {}))[1][tp] = done[1]
        committed: dict[TopicPartition, int] = {}
        for consumer, offsets in by_consumer.values():
            self._behind.pop(id(consumer), None)  # a rebalance revokes all of a consumer's partitions
            try:
                await consumer.commit(offsets)
            except KafkaError as error:
                log.info("%s: could not commit %s before the rebalance (%s); they will be read again", name,
                         _shown(offsets), error)
                continue
            committed |= offsets
            log.debug("%s: committed %s before the rebalance", name, _shown(offsets))
        return committed

    def uncommitted(self) -> int:
        """Messages taken care of and not committed yet, over all consumers (for tests and logs)."""
        return sum(count for count, _ in self._behind.values())


class CommitOnRevoke(ConsumerRebalanceListener):
    """The rebalance listener of one subscription's consumers (FastStream gives each the
    same one): commits their finished work on the partitions a rebalance takes away."""

    def __init__(self, pacing: CommitPacing, name: str) -> None:
        self._pacing = pacing
        self._name = name

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._pacing.commit_revoked(revoked, self._name)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._pacing.assigned(assigned)


def _shown(offsets: dict[TopicPartition, int]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sorted(offsets.items()))


def _highwater(consumer: Any, topic: str, partition: int) -> int | None:
    highwater = getattr(consumer, "highwater", None)  # FastStream's test consumer has none
    if highwater is None:
        return None
    try:
        return highwater(TopicPartition(topic, partition))
    except Exception:  # the partition was just revoked: commit (and let the commit refuse)
        return None
