"""The async client's resources, the same as flint_sdk.resources: each method is awaited,
``iterate`` is an async iterator (``async for order in client.orders.iterate(...)``).

Creates send an ``Idempotency-Key`` of their own unless given one (``idempotency_key=``);
one key per call, the same on each of its retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Unpack

from flint_contracts.envelope import EventEnvelope
from flint_contracts.money import Money
from flint_sdk.api import events, installs, invoices, orders, refunds
from flint_sdk.api.orders import OrderFilters
from flint_sdk.api.refunds import Shipping
from flint_sdk.models import Install, Invoice, Order, Page, Refund, RefundContext, RefundQuote, TimelineEntry

if TYPE_CHECKING:
    from flint_sdk.async_client import AsyncFlintClient


class _Resource:
    def __init__(self, client: AsyncFlintClient) -> None:
        self._client = client


class Orders(_Resource):
    """The order record (orders service)."""

    async def get(self, order_id: str) -> Order:
        return await self._client.run(orders.get(order_id))

    async def list(self, **filters: Unpack[OrderFilters]) -> Page[Order]:
        """One page of orders, newest first."""
        return await self._client.run(orders.list_(**filters))

    def iterate(self, **filters: Unpack[OrderFilters]) -> AsyncIterator[Order]:
        """Every order matching ``filters``, newest first, fetching pages as needed."""
        return self._client.iterate(orders.list_(**filters))

    async def create(self, order: Mapping[str, Any], *, idempotency_key: str | None = None) -> Order:
        """A new order (a merchant's token only: apps act on orders, they do not create them)."""
        return await self._client.run(orders.create(order, idempotency_key=idempotency_key))

    async def timeline(self, order_id: str, *, limit: int | None = None,
                       starting_after: str | None = None) -> Page[TimelineEntry]:
        return await self._client.run(orders.timeline(order_id, limit=limit, starting_after=starting_after))

    def iterate_timeline(self, order_id: str, *, limit: int | None = None) -> AsyncIterator[TimelineEntry]:
        """Every timeline entry of the order, in sequence order."""
        return self._client.iterate(orders.timeline(order_id, limit=limit))

    async def refund_context(self, order_id: str) -> RefundContext:
        return await self._client.run(orders.refund_context(order_id))

    async def add_note(self, order_id: str, body: str, *, idempotency_key: str | None = None) -> Order:
        return await self._client.run(orders.add_note(order_id, body, idempotency_key=idempotency_key))

    async def add_tag(self, order_id: str, tag: str) -> Order:
        return await self._client.run(orders.add_tag(order_id, tag))

    async def remove_tag(self, order_id: str, tag: str) -> Order:
        return await self._client.run(orders.remove_tag(order_id, tag))

    async def set_metadata(self, order_id: str, values: Mapping[str, Any]) -> Order:
        """Replaces the calling app's metadata namespace on the order (``{}`` removes it)."""
        return await self._client.run(orders.set_metadata(order_id, values))

    async def cancel(self, order_id: str, *, reason: str | None = None, idempotency_key: str | None = None) -> Order:
        return await self._client.run(orders.cancel(order_id, reason=reason, idempotency_key=idempotency_key))


class Installs(_Resource):
    """Installs (installs service)."""

    async def own(self) -> Install:
        """The calling app's own install (an app token)."""
        return await self._client.run(installs.own())

    async def list(self, *, status: str | None = None, limit: int | None = None,
             starting_after: str | None = None) -> Page[Install]:
        """The merchant's installs (a merchant token)."""
        return await self._client.run(installs.list_(status=status, limit=limit, starting_after=starting_after))

    def iterate(self, *, status: str | None = None, limit: int | None = None) -> AsyncIterator[Install]:
        return self._client.iterate(installs.list_(status=status, limit=limit))

    async def uninstall(self, install_id: str, *, idempotency_key: str | None = None) -> Install:
        return await self._client.run(installs.uninstall(install_id, idempotency_key=idempotency_key))


class Refunds(_Resource):
    """Refunds (refunds service, docs/refunds.md): quotes, refunds with a reason."""

    async def quote(self, order_id: str, *, lines: Sequence[dict[str, Any]] | None = None, amount: Money | None = None,
              shipping: Shipping = None, payment_id: str | None = None) -> RefundQuote:
        return await self._client.run(refunds.quote(order_id, lines=lines, amount=amount, shipping=shipping,
                                              payment_id=payment_id))

    async def create(self, order_id: str, *, reason: str, lines: Sequence[dict[str, Any]] | None = None,
               amount: Money | None = None, shipping: Shipping = None, payment_id: str | None = None,
               note: str | None = None, idempotency_key: str | None = None) -> Refund:
        return await self._client.run(refunds.create(
            order_id, reason=reason, lines=lines, amount=amount, shipping=shipping, payment_id=payment_id, note=note,
            idempotency_key=idempotency_key))

    async def get(self, refund_id: str) -> Refund:
        return await self._client.run(refunds.get(refund_id))

    async def list(self, *, order_id: str | None = None, limit: int | None = None,
             starting_after: str | None = None) -> Page[Refund]:
        return await self._client.run(refunds.list_(order_id=order_id, limit=limit, starting_after=starting_after))

    def iterate(self, *, order_id: str | None = None, limit: int | None = None) -> AsyncIterator[Refund]:
        return self._client.iterate(refunds.list_(order_id=order_id, limit=limit))


class Invoices(_Resource):
    """Invoices (invoicing service, docs/invoicing.md): hosted pay link, reminders, follow-up."""

    async def create(self, order_id: str, *, due_date: date, amount: Money | None = None,
               reminder_policy: Sequence[int] | None = None, memo: str | None = None,
               idempotency_key: str | None = None) -> Invoice:
        """An open invoice for ``amount`` (default: all the order still owes not yet invoiced),
        due on ``due_date`` (today at the earliest), reminding the buyer on the days of
        ``reminder_policy`` relative to it (default ``[-3, 0, 3, 7]``)."""
        return await self._client.run(invoices.create(order_id, amount=amount, due_date=due_date,
                                                reminder_policy=reminder_policy, memo=memo,
                                                idempotency_key=idempotency_key))

    async def get(self, invoice_id: str) -> Invoice:
        return await self._client.run(invoices.get(invoice_id))

    async def list(self, *, order_id: str | None = None, limit: int | None = None,
             starting_after: str | None = None) -> Page[Invoice]:
        return await self._client.run(invoices.list_(order_id=order_id, limit=limit, starting_after=starting_after))

    def iterate(self, *, order_id: str | None = None, limit: int | None = None) -> AsyncIterator[Invoice]:
        return self._client.iterate(invoices.list_(order_id=order_id, limit=limit))

    async def send(self, invoice_id: str, *, idempotency_key: str | None = None) -> Invoice:
        return await self._client.run(invoices.action(invoice_id, "send", idempotency_key=idempotency_key))

    async def remind(self, invoice_id: str, *, idempotency_key: str | None = None) -> Invoice:
        return await self._client.run(invoices.action(invoice_id, "remind", idempotency_key=idempotency_key))

    async def void(self, invoice_id: str, *, idempotency_key: str | None = None) -> Invoice:
        return await self._client.run(invoices.action(invoice_id, "void", idempotency_key=idempotency_key))

    async def mark_uncollectible(self, invoice_id: str, *, idempotency_key: str | None = None) -> Invoice:
        operation = invoices.action(invoice_id, "mark-uncollectible", idempotency_key=idempotency_key)
        return await self._client.run(operation)

    async def pdf(self, invoice_id: str) -> bytes:
        """The invoice as a PDF document."""
        return await self._client.run(invoices.pdf(invoice_id))


class Events(_Resource):
    """The install's event feed (installs service; not built yet, see flint_sdk.api.events)."""

    async def list(self, *, after: str | None = None, limit: int | None = None) -> Page[EventEnvelope]:
        return await self._client.run(events.list_(after=after, limit=limit))

    def iterate(self, *, after: str | None = None, limit: int | None = None) -> AsyncIterator[EventEnvelope]:
        return self._client.iterate(events.list_(after=after, limit=limit))
