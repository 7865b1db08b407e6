"""Typed, idempotent Kafka consumption (docs/chassis.md, "Reading").

A service declares ``Subscription``s with one handler per contract event type; its runtime
binds them to the database as ``SubscriptionConsumer``s. Inbox in the handler's transaction,
offsets committed after it, validation before any handler, dead letters that can always be
written, and parking instead of retries that block a partition.
"""

from flint_chassis.consumer.commits import CommitPacing
from flint_chassis.consumer.event import Event
from flint_chassis.consumer.inbox import Outcome
from flint_chassis.consumer.message import REPLAY_HEADER, Message
from flint_chassis.consumer.options import ConsumerOptions
from flint_chassis.consumer.processor import SubscriptionConsumer
from flint_chassis.consumer.subscription import DeadLetterHook, ErrorRules, Subscription
from flint_chassis.errors import Conflict, PermanentError, RetryLater

__all__ = [
    "CommitPacing",
    "REPLAY_HEADER",
    "Conflict",
    "ConsumerOptions",
    "DeadLetterHook",
    "ErrorRules",
    "Event",
    "Message",
    "Outcome",
    "PermanentError",
    "RetryLater",
    "Subscription",
    "SubscriptionConsumer",
]
