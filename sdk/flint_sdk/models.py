"""What the client returns: typed models of Flint's answers.

Where ``flint_contracts`` has the model of an answer, the client returns that model
(``Money``, ``EventEnvelope``). The order record, its timeline entries and the refund
context get contract models of their own soon; until then the classes below type the
fields a plugin reads most (ids, statuses, money) and keep every other field as the API
sent it (``extra="allow"``: ``order.line_items`` is there, as a list of dicts). Their field
names are the API's, so moving to the contract models changes no caller.

Refunds, quotes and invoices type the fields a plugin acts on (ids, statuses, money, the pay
link, the quote's refusals); the rest of each answer stays as sent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from flint_contracts.envelope import EventEnvelope
from flint_contracts.money import Money

T = TypeVar("T")


class FlintModel(BaseModel):
    """An answer: the typed fields below, and every other field the API sent, as sent."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Amounts(FlintModel):
    """Where an order's money stands (docs/orders.md, "Money rules")."""

    total: Money
    captured: Money
    refunded: Money
    refund_pending: Money
    net_paid: Money
    balance_due: Money
    credit: Money


class Order(FlintModel):
    """The order record (``GET /v1/orders/{id}``)."""

    id: str
    merchant_id: str
    number: int
    status: str
    payment_status: str
    currency: str
    amounts: Amounts
    tags: list[str] = []
    metadata: dict[str, dict[str, Any]] = {}
    version: int
    created_at: datetime
    updated_at: datetime


class TimelineEntry(FlintModel):
    """One change of an order: gap-free ``sequence``, type, time, actor and changed fields."""

    sequence: int
    type: str
    at: datetime
    actor: dict[str, Any]
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    event_id: str | None = None


class RefundContext(FlintModel):
    """What an order can still refund, and why a refund would be refused now."""

    currency: str
    captured: Money
    refunded: Money
    pending: Money
    max_refundable: Money


class Install(FlintModel):
    """An app's install on a merchant: its scopes and status."""

    id: str
    merchant_id: str
    app_id: str
    scopes: list[str]
    status: str
    created_at: datetime
    updated_at: datetime
    uninstalled_at: datetime | None = None


class Refund(FlintModel):
    """A refund (refunds service): ``pending``, then ``succeeded`` or ``failed``."""

    id: str
    order_id: str
    status: str
    amount: Money
    reason: str
    note: str | None = None
    failure_reason: str | None = None
    created_at: datetime


class Refusal(FlintModel):
    """Why a refund would be refused (``code`` is stable, ``field`` the input at fault)."""

    code: str
    message: str
    field: str | None = None


class RefundQuote(FlintModel):
    """What a refund would take and why (``POST /v1/refunds/quote``); changes nothing.
    ``accepted`` when nothing would refuse it now."""

    order_id: str
    currency: str
    total: Money
    max_refundable: Money
    refusals: list[Refusal] = []

    @property
    def accepted(self) -> bool:
        return not self.refusals


class Invoice(FlintModel):
    """An invoice (invoicing service): ``open``, then ``paid``, ``void`` or ``uncollectible``;
    ``overdue`` once open past its due date. ``hosted_url`` is where the buyer pays."""

    id: str
    order_id: str
    number: int
    display_number: str
    status: str
    overdue: bool
    amount_due: Money
    amount_paid: Money
    amount_remaining: Money
    due_date: date
    reminder_policy: list[int]
    memo: str | None = None
    hosted_url: str | None = None
    payment_id: str | None = None
    created_at: datetime


class Page(BaseModel, Generic[T]):
    """One page of a list. ``next_cursor`` is what the next page starts after."""

    model_config = ConfigDict(frozen=True)

    data: list[T]
    has_more: bool
    next_cursor: str | None = None


__all__ = [
    "Amounts", "EventEnvelope", "FlintModel", "Install", "Invoice", "Order", "Page", "Refund", "RefundContext",
    "RefundQuote", "Refusal", "TimelineEntry",
]
