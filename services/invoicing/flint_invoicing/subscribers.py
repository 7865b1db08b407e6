"""Thin Kafka adapters: contract model in, handler call, nothing else.

Each subscription is its own consumer group (``<prefix>invoicing.<name>``), run by the chassis
(``flint_chassis.consumer``): envelope and data are validated against the contracts before a
handler runs, and the inbox drops duplicates.

- ``orders``: every order event carries the whole order; invoicing keeps what an invoice bills
  (balance due, currency, lines, customer) and which payments the order has captured.
- ``merchants``: ``merchant.created`` gives the name the pay page, the PDF and mail show. The
  install events on the same topic are the chassis' ``install_state`` subscription's.
"""

from __future__ import annotations

import asyncpg

from flint_chassis import install_state
from flint_chassis.consumer import Event, Subscription
from flint_contracts import event_types as types
from flint_contracts.events import MerchantData, OrderEventData
from flint_contracts.topics import INSTALLS_EVENTS, ORDERS_EVENTS
from flint_invoicing import handlers

orders = Subscription("orders", ORDERS_EVENTS)


@orders.on(*(t.name for t in types.for_topic(ORDERS_EVENTS)))
async def order_changed(conn: asyncpg.Connection, event: Event[OrderEventData]) -> None:
    await handlers.record_order(conn, event.data.order)


merchants = Subscription("merchants", INSTALLS_EVENTS)


@merchants.on(types.MERCHANT_CREATED)
async def merchant_created(conn: asyncpg.Connection, event: Event[MerchantData]) -> None:
    await handlers.record_merchant(conn, event.data)


SUBSCRIPTIONS = (orders, merchants, install_state.subscription)
"""Everything the invoicing worker consumes."""
