"""The router: a subscription of the installs worker that hands every deliverable event to the
apps allowed to see it (rules: :mod:`flint_installs.delivery.recipients`).

For each install an event goes to, in one statement in the consumer's transaction (so a
redelivered event, stopped by the inbox, adds nothing; and nothing is half done after a crash):

- the event, the same bytes and id, goes to ``flint.app.<app_id>.v1`` through installs'
  outbox, keyed by its subject (the order id), so each order's events keep their sequence;
- it is added to the install's event feed (``GET /v1/events``);
- a webhook delivery is queued for each enabled endpoint of the install, and the sender is
  woken when the transaction commits.

Why in the installs service: routing needs each merchant's installs and their scopes, and
webhook endpoints belong to installs; installs owns that data (docs/architecture.md).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg

from flint_chassis import outbox, tracing
from flint_chassis.consumer import Event, Subscription
from flint_contracts import event_types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.topics import INSTALLS_EVENTS, INVOICES_EVENTS, ORDERS_EVENTS, REFUNDS_EVENTS, app_topic
from flint_installs.delivery import recipients, routing_repository
from flint_installs.delivery.recipients import Recipient, Route
from flint_installs.delivery.routing_repository import FeedEntry

log = logging.getLogger("flint.installs.router")

ROUTED_TOPICS = (ORDERS_EVENTS, REFUNDS_EVENTS, INVOICES_EVENTS, INSTALLS_EVENTS)


def subscriptions(order_consumers: int = 1) -> list[Subscription]:
    """One subscription per routed topic (``router-orders``, ``router-refunds``, …). Order
    events, the bulk of the traffic, are read by ``order_consumers`` consumers side by side,
    partitions shared out among them: each order's events stay on one partition, in order."""
    found = []
    for topic in ROUTED_TOPICS:
        name = f"router-{topic.split('.')[1]}"
        subscription = Subscription(name, topic, consumers=order_consumers if topic == ORDERS_EVENTS else 1)
        subscription.on(*(t.name for t in event_types.for_topic(topic) if t.deliverable))(route)
        found.append(subscription)
    return found


async def route(conn: asyncpg.Connection, event: Event[Any]) -> None:
    """The handler of every routed type."""
    await route_event(conn, event.envelope, event.raw, now=datetime.now(UTC))


async def route_event(conn: asyncpg.Connection, envelope: EventEnvelope, raw: bytes | None, *,
                      now: datetime) -> int:
    """Route one event in the caller's transaction; returns how many installs it went to."""
    body = raw if raw is not None else envelope.to_bytes()
    routed = recipients.routes(envelope, await _candidates(conn, envelope))
    for target in routed:
        await _deliver(conn, target, envelope, body, now)
    if routed:
        log.debug("routed %s (%s) to %s", envelope.id, envelope.type,
                  ", ".join(t.recipient.install_id for t in routed))
    return len(routed)


async def _candidates(conn: asyncpg.Connection, envelope: EventEnvelope) -> list[Recipient]:
    install_id = recipients.install_of(envelope)
    if install_id is not None:
        found = await routing_repository.install(conn, install_id)
        return [found] if found is not None else []
    if envelope.merchant_id is None:
        return []
    return await routing_repository.active_installs_of(conn, envelope.merchant_id)


async def _deliver(conn: asyncpg.Connection, target: Route, envelope: EventEnvelope, body: bytes,
                   now: datetime) -> int | None:
    """Topic, feed and webhooks of one install, in one statement; how many webhook deliveries
    it queued (the sender is woken when the transaction commits), or None if the install had
    this event already (an operator replayed it: nothing twice)."""
    install, app_id = target.recipient.install_id, target.recipient.app_id
    outbox_id = f"{envelope.id}@{app_id}"  # the outbox keeps one row per id; one per app here
    entry = FeedEntry(install_id=install, event_id=envelope.id, event_type=envelope.type, body=body,
                      outbox_id=outbox_id, routed_at=now)
    key = envelope.subject.encode() if envelope.subject is not None else None
    message = outbox.StagedRaw(app_topic(app_id), [(outbox_id, key, body, outbox.event_headers(envelope))])
    endpoints = list(target.recipient.endpoint_ids) if target.webhooks else []
    webhooks = routing_repository.Webhooks(
        delivery_ids=[new_id("dlv") for _ in endpoints], endpoint_ids=endpoints,
        ordering_key=envelope.subject or envelope.id,
        traceparent=tracing.current_traceparent(),  # the consumer's: each attempt continues it
    )
    return await routing_repository.route(conn, entry, message, webhooks)
