"""The invoice's rules, as a merchant or plugin developer would state them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import parse_data
from flint_contracts.events.actor import Actor
from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_MEMO_LENGTH, MAX_REMINDERS
from flint_contracts.money import Money
from flint_invoicing.domain import (
    ERROR_CODES,
    MAX_PAY_LINKS,
    AlreadyOverdue,
    AmountExceedsBalance,
    AmountMismatch,
    CurrencyMismatch,
    DomainError,
    DueDateInPast,
    InvalidInput,
    Invoice,
    InvoiceNotSent,
    InvoicePaid,
    InvoiceUncollectible,
    InvoiceVoid,
    NothingDue,
    NotYetOverdue,
    PayLinkExpired,
    ReminderAlreadySent,
    ReminderNotDue,
    pay_token_hash,
    reminder_moment,
)
from tests.invoicing.support import PUBLIC_URL, T0, clock_at, eur, invoice_for, order, token_of

MERCHANT = Actor(type="merchant", id=new_id("mer"))
DUE = date(2026, 12, 11)


def dec(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


# --- creating -------------------------------------------------------------------------------------


def test_an_invoice_asks_for_the_whole_balance_due_by_default():
    # given an order that still owes 48.80
    billable = order(balance_due=4880)
    # when it is invoiced without an amount
    invoice = invoice_for(billable)
    # then the invoice is open for 48.80, with nothing paid yet, and says so in invoice.created
    assert invoice.status == "open" and invoice.amount_due == eur(4880) and invoice.amount_paid == eur(0)
    [created] = invoice.pending_events
    assert created.type == types.INVOICE_CREATED
    assert created.data.amount_due == eur(4880) and created.data.number == 42 and created.data.due_date == DUE
    assert created.data.hosted_url.startswith(f"{PUBLIC_URL}/pay/")
    assert invoice.display_number == "INV-0042"


def test_the_created_event_is_a_valid_envelope_on_the_order():
    invoice = invoice_for()
    envelope = invoice.pending_events[0].envelope()
    assert envelope.subject == invoice.order_id and envelope.merchant_id == invoice.merchant_id
    assert envelope.source == "flint.invoicing" and envelope.time == T0
    assert parse_data(envelope).invoice_id == invoice.id


def test_an_invoice_keeps_a_snapshot_of_what_it_bills():
    billable = order()
    invoice = invoice_for(billable, memo="  Thanks for camping with us!  ")
    assert invoice.customer == billable.customer and invoice.lines == billable.lines
    assert invoice.order_totals == billable.totals and invoice.memo == "Thanks for camping with us!"


def test_an_invoice_for_part_of_the_balance():
    invoice = invoice_for(order(balance_due=4880), amount=eur(2000))
    assert invoice.amount_due == eur(2000) and invoice.covers_part_of_balance


def test_other_open_invoices_hold_their_part_of_the_balance():
    billable = order(balance_due=4880)
    first = invoice_for(billable, amount=eur(3000))
    # the default is what is left
    second = invoice_for(billable, other_invoices=[first])
    assert second.amount_due == eur(1880)
    # and nothing more can be asked for
    with pytest.raises(AmountExceedsBalance) as refused:
        invoice_for(billable, amount=eur(1881), other_invoices=[first])
    assert refused.value.field == "amount" and "18.80" in refused.value.reason
    with pytest.raises(NothingDue):
        invoice_for(billable, other_invoices=[first, second])


def test_a_voided_or_paid_invoice_frees_its_part_of_the_balance_but_a_written_off_one_does_not():
    billable = order(balance_due=4880)
    voided = invoice_for(billable, amount=eur(3000))
    voided.void(clock=clock_at(), actor=MERCHANT)
    assert invoice_for(billable, other_invoices=[voided]).amount_due == eur(4880)
    written_off = invoice_for(billable, amount=eur(3000))
    written_off.mark_uncollectible(clock=clock_at(), actor=MERCHANT)
    # it can still be paid, so it still holds its part
    assert invoice_for(billable, other_invoices=[written_off]).amount_due == eur(1880)


def test_an_order_with_nothing_due_cannot_be_invoiced():
    with pytest.raises(NothingDue) as refused:
        invoice_for(order(balance_due=0, paid=4880))
    assert refused.value.code == "nothing_due"
    with pytest.raises(NothingDue):
        invoice_for(order(balance_due=0, paid=4880), amount=eur(100))


def test_an_amount_above_the_balance_is_refused():
    with pytest.raises(AmountExceedsBalance) as refused:
        invoice_for(order(balance_due=4880), amount=eur(4881))
    assert refused.value.code == "amount_exceeds_balance" and refused.value.field == "amount"


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_must_be_more_than_zero(amount):
    with pytest.raises(InvalidInput) as refused:
        invoice_for(amount=eur(amount))
    assert refused.value.field == "amount"


def test_an_amount_in_another_currency_is_refused():
    with pytest.raises(CurrencyMismatch) as refused:
        invoice_for(amount=Money(amount=100, currency="USD"))
    assert refused.value.code == "currency_mismatch" and "EUR" in refused.value.reason


def test_a_due_date_in_the_past_is_refused_but_today_is_fine():
    with pytest.raises(DueDateInPast) as refused:
        invoice_for(due_date=T0.date() - timedelta(days=1))
    assert refused.value.field == "due_date" and refused.value.code == "due_date_in_past"
    assert invoice_for(due_date=T0.date()).due_date == T0.date()


def test_a_due_date_too_far_ahead_or_not_a_day_is_refused():
    with pytest.raises(InvalidInput):
        invoice_for(due_date=T0.date() + timedelta(days=366))
    with pytest.raises(InvalidInput):
        invoice_for(due_date=T0)  # a datetime is not a day


@pytest.mark.parametrize("number", [0, -1, 1_000_000_000, True, "42"])
def test_the_number_must_be_a_positive_whole_number(number):
    with pytest.raises(InvalidInput) as refused:
        invoice_for(number=number)
    assert refused.value.field == "number"


@pytest.mark.parametrize("memo", ["", "   ", "x" * (MAX_MEMO_LENGTH + 1), "null\x00byte"])
def test_a_memo_must_be_readable_text_within_the_limit(memo):
    with pytest.raises(InvalidInput) as refused:
        invoice_for(memo=memo)
    assert refused.value.field == "memo"


@pytest.mark.parametrize(
    "policy, why",
    [
        ([1, 1], "same day"),
        ([-61], "from -60"),
        ([91], "from -60"),
        (list(range(MAX_REMINDERS + 1)), "at most"),
        ([1.5], "whole number"),
        ("3", "list"),
    ],
)
def test_a_reminder_policy_out_of_bounds_is_refused(policy, why):
    with pytest.raises(InvalidInput) as refused:
        invoice_for(reminder_policy=policy)
    assert refused.value.field.startswith("reminder_policy") and why in refused.value.reason


def test_a_reminder_policy_is_kept_sorted():
    assert invoice_for(reminder_policy=[7, -3, 0, 3]).reminder_policy == (-3, 0, 3, 7)
    assert invoice_for(reminder_policy=[]).reminder_policy == ()


# --- the lifecycle --------------------------------------------------------------------------------


def test_sending_gives_the_buyer_a_fresh_link_each_time():
    invoice = invoice_for()
    first = invoice.send(clock=clock_at(T0 + timedelta(minutes=1)), public_url=PUBLIC_URL)
    again = invoice.send(clock=clock_at(T0 + timedelta(days=1)), public_url=PUBLIC_URL)
    assert first.type == again.type == types.INVOICE_SENT
    assert first.data.hosted_url != again.data.hosted_url
    assert invoice.sent_at == T0 + timedelta(minutes=1)  # the first time it went out
    assert all(invoice.has_pay_link(token_of(e.data.hosted_url)) for e in invoice.pending_events)


def test_only_the_hash_of_a_link_is_kept():
    invoice = invoice_for()
    token = token_of(invoice.pending_events[0].data.hosted_url)
    stored = str(invoice.to_dict())
    assert token not in stored and pay_token_hash(token) in stored
    assert len(token) == 43  # 256 bits, URL-safe base64


def test_a_reminder_needs_the_invoice_sent_first():
    invoice = invoice_for()
    with pytest.raises(InvoiceNotSent):
        invoice.remind(clock=clock_at(), public_url=PUBLIC_URL)


def test_reminders_are_numbered_one_after_another_by_hand_or_by_policy():
    invoice = invoice_for(reminder_policy=[-3, 0])
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    by_hand = invoice.remind(clock=clock_at(T0 + timedelta(days=1)), public_url=PUBLIC_URL)
    by_policy = invoice.remind(clock=clock_at(T0 + timedelta(days=11)), public_url=PUBLIC_URL, offset=-3)
    assert [by_hand.data.reminder_number, by_policy.data.reminder_number] == [1, 2]
    assert by_policy.type == types.INVOICE_REMINDER_SENT and by_policy.data.hosted_url


def test_a_policy_reminder_goes_out_once_and_never_early():
    invoice = invoice_for(reminder_policy=[-3, 0])
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    with pytest.raises(ReminderNotDue):  # 09:00 UTC three days before the due date
        invoice.remind(clock=clock_at(dec(8, 8)), public_url=PUBLIC_URL, offset=-3)
    invoice.remind(clock=clock_at(dec(8, 9)), public_url=PUBLIC_URL, offset=-3)
    with pytest.raises(ReminderAlreadySent):
        invoice.remind(clock=clock_at(dec(9)), public_url=PUBLIC_URL, offset=-3)
    with pytest.raises(ReminderNotDue):
        invoice.remind(clock=clock_at(dec(20)), public_url=PUBLIC_URL, offset=5)  # not in the policy


def test_overdue_once_and_only_after_the_due_date():
    invoice = invoice_for()
    with pytest.raises(NotYetOverdue):
        invoice.mark_overdue(clock=clock_at(dec(11, 23, 59)))
    event = invoice.mark_overdue(clock=clock_at(dec(12, 0)))
    assert event.type == types.INVOICE_OVERDUE and event.data.overdue and invoice.overdue
    with pytest.raises(AlreadyOverdue):
        invoice.mark_overdue(clock=clock_at(dec(13)))


def test_paying_an_invoice():
    invoice = invoice_for()
    payment_id = new_id("pay")
    event = invoice.record_payment(payment_id, eur(4880), clock=clock_at(T0 + timedelta(hours=1)))
    assert invoice.status == "paid" and invoice.amount_remaining == eur(0)
    assert event.type == types.INVOICE_PAID and event.data.payment_id == payment_id
    assert event.data.amount_paid == eur(4880)


def test_the_same_payment_twice_is_a_duplicate_and_another_payment_is_refused():
    invoice = invoice_for()
    payment_id = new_id("pay")
    invoice.record_payment(payment_id, eur(4880), clock=clock_at())
    assert invoice.record_payment(payment_id, eur(4880), clock=clock_at()) is None
    assert len(invoice.pending_events) == 2
    with pytest.raises(InvoicePaid) as refused:
        invoice.record_payment(new_id("pay"), eur(4880), clock=clock_at())
    assert refused.value.code == "invoice_paid" and "INV-0042" in refused.value.reason


def test_a_payment_must_be_exactly_what_is_left():
    invoice = invoice_for()
    with pytest.raises(AmountMismatch):
        invoice.record_payment(new_id("pay"), eur(4000), clock=clock_at())
    with pytest.raises(CurrencyMismatch):
        invoice.record_payment(new_id("pay"), Money(amount=4880, currency="USD"), clock=clock_at())
    with pytest.raises(InvalidInput):
        invoice.record_payment("not-a-payment", eur(4880), clock=clock_at())
    assert invoice.status == "open" and len(invoice.pending_events) == 1


def test_void_on_a_paid_invoice_is_refused_and_changes_nothing():
    invoice = invoice_for()
    invoice.record_payment(new_id("pay"), eur(4880), clock=clock_at())
    before = invoice.to_dict()
    with pytest.raises(InvoicePaid) as refused:
        invoice.void(clock=clock_at(), actor=MERCHANT)
    assert refused.value.code == "invoice_paid" and refused.value.field == "status"
    assert invoice.to_dict() == before


def test_a_void_invoice_cannot_be_paid_sent_or_reminded():
    invoice = invoice_for()
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    voided = invoice.void(clock=clock_at(), actor=MERCHANT)
    assert voided.type == types.INVOICE_VOIDED and voided.data.actor == MERCHANT
    for attempt in (
        lambda: invoice.record_payment(new_id("pay"), eur(4880), clock=clock_at()),
        lambda: invoice.send(clock=clock_at(), public_url=PUBLIC_URL),
        lambda: invoice.remind(clock=clock_at(), public_url=PUBLIC_URL),
        lambda: invoice.void(clock=clock_at(), actor=MERCHANT),
        lambda: invoice.mark_uncollectible(clock=clock_at(), actor=MERCHANT),
    ):
        with pytest.raises(InvoiceVoid):
            attempt()


def test_a_written_off_invoice_can_still_be_paid_but_not_reminded():
    invoice = invoice_for()
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    event = invoice.mark_uncollectible(clock=clock_at(), actor=MERCHANT)
    assert event.type == types.INVOICE_MARKED_UNCOLLECTIBLE and event.data.status == "uncollectible"
    with pytest.raises(InvoiceUncollectible):
        invoice.remind(clock=clock_at(), public_url=PUBLIC_URL)
    assert invoice.record_payment(new_id("pay"), eur(4880), clock=clock_at()).type == types.INVOICE_PAID


def test_overdue_is_shown_only_while_open():
    invoice = invoice_for()
    invoice.mark_overdue(clock=clock_at(dec(12)))
    paid = invoice.record_payment(new_id("pay"), eur(4880), clock=clock_at(dec(13)))
    assert not paid.data.overdue and not invoice.overdue


# --- the pay link ---------------------------------------------------------------------------------


def test_a_pay_link_works_until_its_expiry_and_a_made_up_one_never():
    invoice = invoice_for()
    token = token_of(invoice.pending_events[0].data.hosted_url)
    invoice.check_pay_link(token, clock=clock_at(invoice.pay_links_expire_at - timedelta(seconds=1)))
    with pytest.raises(PayLinkExpired):
        invoice.check_pay_link(token, clock=clock_at(invoice.pay_links_expire_at))
    for made_up in ("x" * 43, token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:], "", "../../etc", token + "=", "€" * 43):
        with pytest.raises(PayLinkExpired):
            invoice.check_pay_link(made_up, clock=clock_at())


def test_the_link_in_the_latest_reminder_allowed_still_works():
    invoice = invoice_for(reminder_policy=[90])
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    reminder_day = clock_at(reminder_moment(invoice.due_date, 90))
    reminder = invoice.remind(clock=reminder_day, public_url=PUBLIC_URL, offset=90)
    invoice.check_pay_link(token_of(reminder.data.hosted_url), clock=clock_at(reminder_day.now() + timedelta(days=7)))


def test_only_the_newest_links_are_kept():
    invoice = invoice_for()
    for _ in range(MAX_PAY_LINKS + 5):
        invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    urls = [e.data.hosted_url for e in invoice.pending_events]
    assert len(invoice.pay_links) == MAX_PAY_LINKS
    assert invoice.has_pay_link(token_of(urls[-1])) and not invoice.has_pay_link(token_of(urls[0]))


# --- storage and codes ------------------------------------------------------------------------------


def test_an_invoice_reads_back_as_it_was_stored():
    invoice = invoice_for()
    invoice.send(clock=clock_at(), public_url=PUBLIC_URL)
    loaded = Invoice.from_dict(invoice.to_dict())
    assert loaded.to_dict() == invoice.to_dict() and loaded.version == 2 and loaded.loaded_version == 2
    assert invoice.loaded_version == 0 and len(invoice.pull_events()) == 2 and invoice.pending_events == ()


def test_every_error_code_is_registered_once():
    codes = [error.code for error in ERROR_CODES.values()]
    assert len(codes) == len(set(codes))
    assert all(issubclass(error, DomainError) for error in ERROR_CODES.values())
