"""The invoice: a request to pay part or all of what an order still owes.

Lifecycle: ``open`` -> ``paid`` | ``void`` | ``uncollectible``; an uncollectible invoice
(written off) may still be paid or voided. ``overdue`` is a flag on an open invoice once its
due date has passed. Each method checks everything before it changes anything, then records
exactly one event (``pull_events``); a refused change raises a ``DomainError`` with a code.
No I/O: time comes from an injected clock, and the hosted link's base URL is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr

from flint_contracts import event_types as types
from flint_contracts.events import InvoiceData
from flint_contracts.events.actor import Actor
from flint_contracts.ids import is_id, new_id
from flint_contracts.limits import MAX_DUE_DAYS_AHEAD, MAX_INVOICE_NUMBER, MAX_MEMO_LENGTH
from flint_contracts.money import Money
from flint_contracts.text import text_problem
from flint_invoicing.domain.clock import Clock, now_of
from flint_invoicing.domain.errors import (
    AlreadyOverdue,
    AmountExceedsBalance,
    AmountMismatch,
    CurrencyMismatch,
    DueDateInPast,
    InvalidInput,
    InvalidTransition,
    InvoiceNotSent,
    InvoicePaid,
    InvoiceUncollectible,
    InvoiceVoid,
    NothingDue,
    NotYetOverdue,
    PayLinkExpired,
    ReminderAlreadySent,
    ReminderNotDue,
)
from flint_invoicing.domain.events import InvoiceEvent
from flint_invoicing.domain.pay_link import (
    MAX_PAY_LINKS,
    PayLink,
    hosted_url,
    new_pay_token,
    pay_links_expire_at,
    pay_token_hash,
)
from flint_invoicing.domain.policy import (
    DEFAULT_REMINDER_POLICY,
    overdue_moment,
    check_reminder_policy,
    reminder_moment,
)
from flint_invoicing.domain.values import BillableOrder, Customer, InvoiceLine, OrderTotals

InvoiceStatus = Literal["open", "paid", "void", "uncollectible"]
PAYABLE: frozenset[str] = frozenset({"open", "uncollectible"})
"""Statuses in which an invoice can still be paid, and so still holds part of the order's balance."""

SYSTEM = Actor(type="system", id="flint.invoicing")
"""The actor of follow-up (sending, reminders, overdue) the service does by itself."""


class Invoice(BaseModel):
    """One invoice. Change it only through its methods."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    order_id: str
    order_number: int
    number: int
    status: InvoiceStatus = "open"
    currency: str
    amount_due: Money = Field(description="What the invoice asks for.")
    amount_paid: Money
    due_date: date
    reminder_policy: tuple[int, ...]
    memo: str | None = None
    customer: Customer
    lines: tuple[InvoiceLine, ...]
    order_totals: OrderTotals
    order_paid: Money = Field(description="What the order had been paid when the invoice was made.")
    order_balance_due: Money = Field(description="What the order owed when the invoice was made.")
    pay_links: tuple[PayLink, ...] = ()
    pay_links_expire_at: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    reminders_sent: int = 0
    last_reminder_offset: int | None = Field(default=None, description="The latest policy reminder sent.")
    overdue_at: AwareDatetime | None = None
    paid_at: AwareDatetime | None = None
    payment_id: str | None = None
    voided_at: AwareDatetime | None = None
    marked_uncollectible_at: AwareDatetime | None = None
    version: int = 0

    _events: list[InvoiceEvent] = PrivateAttr(default_factory=list)

    # --- creation -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        order: BillableOrder,
        *,
        number: int,
        due_date: date,
        clock: Clock,
        public_url: str,
        other_invoices: Iterable[Invoice] = (),
        amount: Money | None = None,
        reminder_policy: Sequence[int] = DEFAULT_REMINDER_POLICY,
        memo: str | None = None,
        actor: Actor = SYSTEM,
        invoice_id: str | None = None,
    ) -> Invoice:
        """An open invoice for ``amount`` (default: all the order owes that no other payable
        invoice of the order asks for already). Records ``invoice.created`` with a pay link."""
        now = now_of(clock)
        _check_number(number)
        _check_due_date(due_date, now)
        policy = check_reminder_policy(reminder_policy)
        memo = _clean_memo(memo)
        amount = _amount_to_bill(order, amount, list(other_invoices))
        if invoice_id is not None and not is_id(invoice_id, "inv"):
            raise InvalidInput("must be an invoice id (inv_...)", field="invoice_id")
        invoice = cls(
            id=invoice_id or new_id("inv"), merchant_id=order.merchant_id, order_id=order.order_id,
            order_number=order.order_number, number=number, currency=order.currency, amount_due=amount,
            amount_paid=Money.zero(order.currency), due_date=due_date, reminder_policy=policy, memo=memo,
            customer=order.customer, lines=order.lines, order_totals=order.totals, order_paid=order.paid,
            order_balance_due=order.balance_due, pay_links_expire_at=pay_links_expire_at(due_date),
            created_at=now, updated_at=now,
        )  # fmt: skip
        invoice._record(types.INVOICE_CREATED, now, actor, hosted_url=invoice._issue_link(public_url, now))
        return invoice

    # --- what the buyer sees ----------------------------------------------------------------

    @property
    def display_number(self) -> str:
        """The number as printed: ``INV-0042``."""
        return f"INV-{self.number:04d}"

    @property
    def amount_remaining(self) -> Money:
        """What is still to pay on this invoice."""
        return self.amount_due - self.amount_paid

    @property
    def overdue(self) -> bool:
        """True while the invoice is open and was marked overdue."""
        return self.status == "open" and self.overdue_at is not None

    @property
    def covers_part_of_balance(self) -> bool:
        """True when the invoice asks for less than the order owed when it was made."""
        return self.amount_due < self.order_balance_due

    # --- follow-up ----------------------------------------------------------------------------

    def send(self, *, clock: Clock, public_url: str, actor: Actor = SYSTEM) -> InvoiceEvent:
        """The invoice email goes out (again, when sent before) with a fresh pay link."""
        self._require("send", {"open"})
        now = now_of(clock)
        self.sent_at = self.sent_at or now
        return self._record(types.INVOICE_SENT, now, actor, hosted_url=self._issue_link(public_url, now))

    def remind(
        self, *, clock: Clock, public_url: str, offset: int | None = None, actor: Actor = SYSTEM
    ) -> InvoiceEvent:
        """A reminder goes out with a fresh pay link. ``offset`` names the policy's reminder
        (days from the due date) when follow-up sends it; a reminder by hand has none. A
        policy reminder is sent at most once, and never before its time."""
        self._require("remind about", {"open"})
        if self.sent_at is None:
            raise InvoiceNotSent(f"{self.display_number} was never sent: send it before reminding")
        now = now_of(clock)
        if offset is not None:
            self._check_policy_reminder(offset, now)
            self.last_reminder_offset = offset
        self.reminders_sent += 1
        link = self._issue_link(public_url, now)
        return self._record(types.INVOICE_REMINDER_SENT, now, actor, hosted_url=link, reminder_number=self.reminders_sent)

    def mark_overdue(self, *, clock: Clock) -> InvoiceEvent:
        """Flags an open invoice whose due date has passed."""
        self._require("mark overdue", {"open"})
        now = now_of(clock)
        if self.overdue_at is not None:
            raise AlreadyOverdue(f"{self.display_number} has been overdue since {self.overdue_at.isoformat()}")
        if now < overdue_moment(self.due_date):
            raise NotYetOverdue(f"{self.display_number} is due on {self.due_date.isoformat()}")
        self.overdue_at = now
        return self._record(types.INVOICE_OVERDUE, now, SYSTEM)

    # --- ending -------------------------------------------------------------------------------

    def void(self, *, clock: Clock, actor: Actor) -> InvoiceEvent:
        """Cancels the invoice: its links stop working and follow-up ends. Not once paid."""
        self._require("void", PAYABLE)
        now = now_of(clock)
        self.status, self.voided_at = "void", now
        return self._record(types.INVOICE_VOIDED, now, actor)

    def mark_uncollectible(self, *, clock: Clock, actor: Actor) -> InvoiceEvent:
        """Writes the invoice off: follow-up ends, but the buyer may still pay it."""
        self._require("mark uncollectible", {"open"})
        now = now_of(clock)
        self.status, self.marked_uncollectible_at = "uncollectible", now
        return self._record(types.INVOICE_MARKED_UNCOLLECTIBLE, now, actor)

    def record_payment(
        self, payment_id: str, amount: Money, *, clock: Clock, actor: Actor = SYSTEM
    ) -> InvoiceEvent | None:
        """A captured payment of exactly what is left to pay. The same payment again is a
        duplicate: nothing changes, returns None. Any other payment of a paid invoice is refused."""
        if self.status == "paid" and payment_id == self.payment_id:
            return None
        self._require("pay", PAYABLE)
        if not is_id(payment_id, "pay"):
            raise InvalidInput("must be a payment id (pay_...)", field="payment_id")
        _check_currency("amount", amount, self.currency)
        if amount != self.amount_remaining:
            raise AmountMismatch(f"is {amount}, but {self.display_number} asks for {self.amount_remaining}", field="amount")
        now = now_of(clock)
        self.status, self.amount_paid, self.payment_id, self.paid_at = "paid", self.amount_due, payment_id, now
        return self._record(types.INVOICE_PAID, now, actor)

    # --- the hosted page ------------------------------------------------------------------------

    def has_pay_link(self, token: str) -> bool:
        """True when ``token`` is one of the links this invoice handed out (expired or not)."""
        token_hash = pay_token_hash(token)
        return token_hash is not None and any(link.token_hash == token_hash for link in self.pay_links)

    def check_pay_link(self, token: str, *, clock: Clock) -> None:
        """Raises ``PayLinkExpired`` unless ``token`` is a link of this invoice that still works."""
        if not self.has_pay_link(token) or now_of(clock) >= self.pay_links_expire_at:
            raise PayLinkExpired("this pay link does not work (any more)")

    # --- collecting changes -----------------------------------------------------------------

    @property
    def pending_events(self) -> tuple[InvoiceEvent, ...]:
        """Events recorded since the invoice was created or loaded, oldest first."""
        return tuple(self._events)

    @property
    def loaded_version(self) -> int:
        """The version the invoice had when loaded: the guard for saving it."""
        return self.version - len(self._events)

    def pull_events(self) -> list[InvoiceEvent]:
        """Hands the new events over (to write them to the outbox) and forgets them."""
        events, self._events = self._events, []
        return events

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; money as {"amount", "currency"}."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Invoice:
        return cls.model_validate(data)

    # --- private ------------------------------------------------------------------------------

    def _require(self, action: str, allowed: set[str] | frozenset[str]) -> None:
        if self.status in allowed:
            return
        error = {"paid": InvoicePaid, "void": InvoiceVoid, "uncollectible": InvoiceUncollectible}.get(
            self.status, InvalidTransition
        )
        raise error(f"cannot {action} {self.display_number}: it is {self.status}", field="status")

    def _check_policy_reminder(self, offset: int, now: datetime) -> None:
        if offset not in self.reminder_policy:
            raise ReminderNotDue(f"the reminder policy {list(self.reminder_policy)} has no reminder at {offset:+d} days")
        if self.last_reminder_offset is not None and offset <= self.last_reminder_offset:
            raise ReminderAlreadySent(f"the reminder at {offset:+d} days was sent or passed over already")
        if now < reminder_moment(self.due_date, offset):
            raise ReminderNotDue(f"the reminder at {offset:+d} days is due at {reminder_moment(self.due_date, offset)}")

    def _issue_link(self, public_url: str, now: datetime) -> str:
        token = new_pay_token()
        url = hosted_url(public_url, token)
        link = PayLink(token_hash=pay_token_hash(token), issued_at=now)
        self.pay_links = (*self.pay_links, link)[-MAX_PAY_LINKS:]
        return url

    def _record(
        self, type_: str, at: datetime, actor: Actor, *, hosted_url: str | None = None, reminder_number: int | None = None
    ) -> InvoiceEvent:
        self.version += 1
        self.updated_at = max(self.updated_at, at)
        data = InvoiceData(
            invoice_id=self.id, order_id=self.order_id, number=self.number, status=self.status,
            overdue=self.overdue, amount_due=self.amount_due, amount_paid=self.amount_paid, due_date=self.due_date,
            hosted_url=hosted_url, payment_id=self.payment_id, reminder_number=reminder_number, memo=self.memo,
            actor=actor,
        )  # fmt: skip
        data.check_type(type_)  # a status that contradicts the type is a bug here, not a consumer's problem
        event = InvoiceEvent(type=type_, merchant_id=self.merchant_id, at=at, data=data)
        self._events.append(event)
        return event


def held_by(invoices: Iterable[Invoice], order_id: str, currency: str) -> Money:
    """What the order's payable invoices still ask for: the part of its balance they hold."""
    held = Money.zero(currency)
    for invoice in invoices:
        if invoice.order_id != order_id:
            raise ValueError(f"invoice {invoice.id} belongs to order {invoice.order_id}, not {order_id}")
        if invoice.status in PAYABLE:
            held = held + invoice.amount_remaining
    return held


def _amount_to_bill(order: BillableOrder, amount: Money | None, others: list[Invoice]) -> Money:
    held = held_by(others, order.order_id, order.currency)
    room = order.balance_due - held
    if amount is None:
        if order.balance_due.amount == 0:
            raise NothingDue(f"order #{order.order_number} has nothing due", field="order_id")
        if room.amount <= 0:
            raise NothingDue(
                f"all {order.balance_due} order #{order.order_number} owes is on its other open invoices already",
                field="order_id",
            )
        return room
    _check_currency("amount", amount, order.currency)
    if amount.amount <= 0:
        raise InvalidInput("must be more than zero", field="amount")
    if order.balance_due.amount == 0:
        raise NothingDue(f"order #{order.order_number} has nothing due", field="order_id")
    if amount > room:
        raise AmountExceedsBalance(
            f"is {amount}, but order #{order.order_number} owes {order.balance_due}, of which "
            f"{held} is on its other open invoices: at most {_not_negative(room)} can be invoiced",
            field="amount",
        )
    return amount


def _check_currency(field: str, amount: Money, currency: str) -> None:
    if not isinstance(amount, Money):
        raise InvalidInput("must be money: {amount, currency}", field=field)
    if amount.currency != currency:
        raise CurrencyMismatch(f"is in {amount.currency}, the order is in {currency}", field=field)


def _check_number(number: int) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_INVOICE_NUMBER:
        raise InvalidInput(f"must be a whole number from 1 to {MAX_INVOICE_NUMBER}", field="number")


def _check_due_date(due_date: date, now: datetime) -> None:
    if isinstance(due_date, datetime) or not isinstance(due_date, date):
        raise InvalidInput("must be a day (YYYY-MM-DD)", field="due_date")
    today = now.astimezone(UTC).date()
    if due_date < today:
        raise DueDateInPast(f"is {due_date.isoformat()}, before today ({today.isoformat()}, UTC)", field="due_date")
    if due_date > today + timedelta(days=MAX_DUE_DAYS_AHEAD):
        raise InvalidInput(f"must be at most {MAX_DUE_DAYS_AHEAD} days from today", field="due_date")


def _clean_memo(memo: str | None) -> str | None:
    if memo is None:
        return None
    text = memo.strip() if isinstance(memo, str) else ""
    if not 1 <= len(text) <= MAX_MEMO_LENGTH:
        raise InvalidInput(f"must be 1 to {MAX_MEMO_LENGTH} characters; leave it out for no memo", field="memo")
    problem = text_problem(text)
    if problem is not None:
        raise InvalidInput(problem, field="memo")
    return text


def _not_negative(money: Money) -> Money:
    return money if money.amount > 0 else Money.zero(money.currency)
