"""Follow-up: what the worker sends and when, driven by a simulated clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flint_contracts import event_types as types
from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_REMINDER_DAYS_AFTER_DUE, MAX_REMINDER_DAYS_BEFORE_DUE, MAX_REMINDERS
from flint_invoicing.domain import (
    FixedClock,
    FollowUp,
    Invoice,
    due_now,
    follow_ups,
    next_follow_up_at,
    overdue_moment,
    reminder_moment,
)
from flint_invoicing.domain.events import InvoiceEvent
from tests.invoicing.support import PUBLIC_URL, T0, eur, invoice_for

DUE = date(2026, 12, 11)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def run(step: FollowUp, invoice: Invoice, clock: FixedClock) -> InvoiceEvent:
    """What the worker does with a due step: call the invoice's own method."""
    if step.action == "send":
        return invoice.send(clock=clock, public_url=PUBLIC_URL)
    if step.action == "mark_overdue":
        return invoice.mark_overdue(clock=clock)
    return invoice.remind(clock=clock, public_url=PUBLIC_URL, offset=step.reminder_offset)


def test_the_plan_of_a_new_invoice():
    invoice = invoice_for(reminder_policy=[-3, 0, 3, 7])
    plan = follow_ups(invoice)
    assert [(s.action, s.at, s.reminder_offset) for s in plan] == [
        ("send", T0, None),
        ("remind", at(8), -3),
        ("remind", at(11), 0),
        ("mark_overdue", datetime(2026, 12, 12, tzinfo=UTC), None),
        ("remind", at(14), 3),
        ("remind", at(18), 7),
    ]
    assert len({s.key for s in plan}) == len(plan)
    assert plan[1].key == f"{invoice.id}:remind:-3" and plan[3].key == f"{invoice.id}:mark_overdue"
    assert next_follow_up_at(invoice) == T0


def test_reminders_whose_day_passed_before_the_invoice_existed_are_not_planned():
    clock = FixedClock(at(10, 12))  # created the day before it is due
    invoice = invoice_for(clock=clock, reminder_policy=[-3, 0, 3])
    assert [s.reminder_offset for s in follow_ups(invoice) if s.action == "remind"] == [0, 3]


def test_a_simulated_month_sends_each_reminder_once_at_its_time():
    # given an invoice due on 11 December with reminders 3 days before, on the day, 3 and 7 after
    clock = FixedClock(T0)
    invoice = invoice_for(clock=clock, reminder_policy=[-3, 0, 3, 7])
    sent: list[tuple[str, datetime, int | None]] = []
    # when a worker looks every hour for a month
    while clock.now() < at(31):
        for step in due_now(invoice, clock):
            event = run(step, invoice, clock)
            sent.append((event.type, clock.now(), event.data.reminder_number))
        clock.advance(timedelta(hours=1))
    # then the email went out at once, each reminder at 09:00 on its day, overdue after the due date
    assert sent == [
        (types.INVOICE_SENT, T0, None),
        (types.INVOICE_REMINDER_SENT, at(8), 1),
        (types.INVOICE_REMINDER_SENT, at(11), 2),
        (types.INVOICE_OVERDUE, datetime(2026, 12, 12, tzinfo=UTC), None),
        (types.INVOICE_REMINDER_SENT, at(14), 3),
        (types.INVOICE_REMINDER_SENT, at(18), 4),
    ]
    assert follow_ups(invoice) == []  # open and overdue, but nothing left to do


def test_a_worker_back_after_days_sends_one_reminder_not_a_burst():
    clock = FixedClock(T0)
    invoice = invoice_for(clock=clock, reminder_policy=[-3, 0, 3])
    run(due_now(invoice, clock)[0], invoice, clock)
    clock.set(at(15))  # down from 27 November to 15 December
    steps = due_now(invoice, clock)
    assert [(s.action, s.reminder_offset) for s in steps] == [("mark_overdue", None), ("remind", 3)]
    for step in steps:
        run(step, invoice, clock)
    assert due_now(invoice, clock) == [] and follow_ups(invoice) == []


def test_nothing_is_planned_once_paid_void_or_written_off():
    for close in (
        lambda inv, clock: inv.record_payment(new_id("pay"), eur(4880), clock=clock),
        lambda inv, clock: inv.void(clock=clock, actor=inv.pending_events[0].data.actor),
        lambda inv, clock: inv.mark_uncollectible(clock=clock, actor=inv.pending_events[0].data.actor),
    ):
        clock = FixedClock(T0)
        invoice = invoice_for(clock=clock)
        run(due_now(invoice, clock)[0], invoice, clock)
        close(invoice, clock)
        clock.set(at(30))
        assert follow_ups(invoice) == [] and due_now(invoice, clock) == []


def test_reminders_wait_for_the_invoice_email():
    clock = FixedClock(T0)
    invoice = invoice_for(clock=clock, reminder_policy=[-3])
    clock.set(at(9))  # the email never went out (SMTP was down), and the reminder's day has come
    assert [s.action for s in due_now(invoice, clock)] == ["send"]
    run(due_now(invoice, clock)[0], invoice, clock)
    # the email just went out: a reminder from the day before would remind of nothing new
    assert due_now(invoice, clock) == [] and follow_ups(invoice)[0].action == "mark_overdue"


# --- properties -----------------------------------------------------------------------------------

policies = st.lists(
    st.integers(-MAX_REMINDER_DAYS_BEFORE_DUE, MAX_REMINDER_DAYS_AFTER_DUE), unique=True, max_size=MAX_REMINDERS
)
interruptions = st.sampled_from(["none", "pay", "void", "uncollectible", "remind_by_hand", "send_again"])


@settings(max_examples=150, deadline=None)
@given(
    policy=policies,
    days_ahead=st.integers(0, 60),
    created_hour=st.integers(0, 23),
    ticks=st.lists(st.integers(1, 72), min_size=1, max_size=80),  # hours between worker runs
    interruption=interruptions,
    interrupt_at=st.integers(0, 79),
)
def test_follow_up_never_repeats_a_reminder_and_stops_when_closed(
    policy, days_ahead, created_hour, ticks, interruption, interrupt_at
):
    clock = FixedClock(T0.replace(hour=created_hour))
    invoice = invoice_for(clock=clock, due_date=clock.now().date() + timedelta(days=days_ahead), reminder_policy=policy)
    reminded_offsets: list[int] = []
    events: list[InvoiceEvent] = list(invoice.pending_events)
    for index, hours in enumerate(ticks):
        clock.advance(timedelta(hours=hours))
        if index == interrupt_at:
            events += _interrupt(interruption, invoice, clock)
        for step in due_now(invoice, clock):
            events.append(run(step, invoice, clock))
            if step.action == "remind":
                assert step.at <= clock.now()
                assert step.reminder_offset not in reminded_offsets
                reminded_offsets.append(step.reminder_offset)
                assert reminder_moment(invoice.due_date, step.reminder_offset) <= clock.now()
    types_seen = [e.type for e in events]
    # the email comes before any reminder; reminders count 1, 2, 3, ...
    if types.INVOICE_REMINDER_SENT in types_seen:
        assert types_seen.index(types.INVOICE_SENT) < types_seen.index(types.INVOICE_REMINDER_SENT)
    numbers = [e.data.reminder_number for e in events if e.type == types.INVOICE_REMINDER_SENT]
    assert numbers == list(range(1, len(numbers) + 1))
    # policy reminders go out in the policy's order
    assert reminded_offsets == sorted(reminded_offsets)
    # overdue at most once, and never before the due date has passed
    overdue = [e for e in events if e.type == types.INVOICE_OVERDUE]
    assert len(overdue) <= 1 and all(e.at >= overdue_moment(invoice.due_date) for e in overdue)
    # nothing follows the end of an invoice
    closing = {types.INVOICE_PAID, types.INVOICE_VOIDED, types.INVOICE_MARKED_UNCOLLECTIBLE}
    ended = [i for i, t in enumerate(types_seen) if t in closing]
    if ended:
        assert all(t in closing for t in types_seen[ended[0]:]) and follow_ups(invoice) == []


@settings(max_examples=100, deadline=None)
@given(policy=policies, days_ahead=st.integers(0, 60), created_hour=st.integers(0, 23))
def test_an_hourly_worker_sends_every_planned_reminder_exactly_once(policy, days_ahead, created_hour):
    clock = FixedClock(T0.replace(hour=created_hour))
    invoice = invoice_for(clock=clock, due_date=clock.now().date() + timedelta(days=days_ahead), reminder_policy=policy)
    invoice.send(clock=clock, public_url=PUBLIC_URL)
    planned = [s.reminder_offset for s in follow_ups(invoice) if s.action == "remind"]
    reminded = []
    end = overdue_moment(invoice.due_date) + timedelta(days=MAX_REMINDER_DAYS_AFTER_DUE + 1)
    while clock.now() < end:
        clock.advance(timedelta(hours=1))
        for step in due_now(invoice, clock):
            run(step, invoice, clock)
            if step.action == "remind":
                reminded.append(step.reminder_offset)
    assert reminded == planned
    assert invoice.overdue


def _interrupt(kind: str, invoice: Invoice, clock: FixedClock) -> list[InvoiceEvent]:
    if invoice.status != "open":
        return []
    if kind == "pay":
        return [invoice.record_payment(new_id("pay"), invoice.amount_remaining, clock=clock)]
    if kind == "void":
        return [invoice.void(clock=clock, actor=invoice.pending_events[0].data.actor)]
    if kind == "uncollectible":
        return [invoice.mark_uncollectible(clock=clock, actor=invoice.pending_events[0].data.actor)]
    if kind == "remind_by_hand" and invoice.sent_at is not None:
        return [invoice.remind(clock=clock, public_url=PUBLIC_URL)]
    if kind == "send_again":
        return [invoice.send(clock=clock, public_url=PUBLIC_URL)]
    return []
