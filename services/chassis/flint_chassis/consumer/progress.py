"""Per-partition progress of one consumer, for readiness: is any partition stuck?

A partition is stalled when a message has been in hand longer than ``stall_seconds``, or
when it has lag (the broker holds messages past what was processed) and nothing was
processed on it for ``stall_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass
class PartitionProgress:
    clock: Callable[[], float] = time.monotonic
    in_hand: dict[TopicPartition, tuple[int, float]] = field(default_factory=dict)
    next_offset: dict[TopicPartition, tuple[int, float]] = field(default_factory=dict)
    first_seen: dict[TopicPartition, float] = field(default_factory=dict)

    def started(self, topic: str, partition: int, offset: int) -> None:
        self.in_hand[TopicPartition(topic, partition)] = (offset, self.clock())

    def finished(self, topic: str, partition: int, offset: int) -> None:
        tp = TopicPartition(topic, partition)
        self.in_hand.pop(tp, None)
        self.next_offset[tp] = (offset + 1, self.clock())

    async def lag(self, consumer: AIOKafkaConsumer | Sequence[AIOKafkaConsumer | None] | None,
                  ) -> dict[TopicPartition, int]:
        """Messages on the broker past what was taken care of, per assigned partition whose
        end the consumer has seen (a message in hand counts as waiting). ``consumer`` may be
        the several consumers of one subscription."""
        lags = {}
        for one in consumer if isinstance(consumer, Sequence) else [consumer]:
            if one is not None:
                lags |= await self._partition_lags(one)
        return lags

    async def _partition_lags(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        lags = {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if tp in self.in_hand:
                done: int | None = self.in_hand[tp][0]
            elif tp in self.next_offset:
                done = self.next_offset[tp][0]
            else:
                done = await consumer.committed(tp)
            if highwater is not None and done is not None:
                lags[tp] = max(highwater - done, 0)
        return lags

    async def stalls(self, consumer: AIOKafkaConsumer | Sequence[AIOKafkaConsumer | None] | None,
                     stall_seconds: float) -> list[str]:
        """A sentence for each stalled partition (none when all move or have nothing to do).
        ``consumer`` may be the several consumers of one subscription."""
        now = self.clock()
        found = [f"{tp.topic}[{tp.partition}] stuck at offset {offset} for {now - since:.0f}s"
                 for tp, (offset, since) in self.in_hand.items() if now - since > stall_seconds]
        consumers = consumer if isinstance(consumer, Sequence) else [consumer]
        for one in consumers:
            if one is not None:
                found += await self._lagging(one, now, stall_seconds)
        return found

    async def _lagging(self, consumer: AIOKafkaConsumer, now: float, stall_seconds: float) -> list[str]:
        found = []
        for tp in consumer.assignment():
            if tp in self.in_hand:
                continue
            highwater = consumer.highwater(tp)
            done, at = self.next_offset.get(tp, (None, self.first_seen.setdefault(tp, now)))
            if done is None:
                done = await consumer.committed(tp)
            if highwater is None or done is None:
                continue
            lag = highwater - done
            if lag > 0 and now - at > stall_seconds:
                found.append(f"{tp.topic}[{tp.partition}] has {lag} waiting and no progress for {now - at:.0f}s")
        return found
