"""The refunds domain without I/O: a refund opened from an accepted quote, and what the
processor's answers for its parts make of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import Actor, RefundLine, build_envelope
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.refund_rules import (
    Capture,
    OrderLine,
    OrderMoney,
    RefundRequest,
    RequestedLine,
    quote_refund,
    refund_context,
)
from flint_refunds.domain import NOT_ATTEMPTED, Outcome, Part, Refund, part_key, settle_parts

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
APP = Actor(type="app", id=new_id("app"))


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def order_paid_twice() -> OrderMoney:
    """2 mugs at 10.00 + 3.80 tax, 5.00 shipping: 28.80, paid 10.00 then 18.80."""
    return OrderMoney(
        currency="EUR", lines=[OrderLine(line_item_id=new_id("lin"), quantity=2, unit_price=eur(1000), tax=eur(380))],
        shipping=eur(500), captures=[Capture(payment_id=new_id("pay"), amount=eur(1000), captured_at=T0),
                                     Capture(payment_id=new_id("pay"), amount=eur(1880),
                                             captured_at=T0 + timedelta(minutes=1))],
    )


def two_mugs(order: OrderMoney) -> Refund:
    quote = quote_refund(order, RefundRequest(lines=[RequestedLine(line_item_id=order.lines[0].line_item_id,
                                                                   quantity=2)]))
    return Refund.open(refund_id=new_id("rfd"), merchant_id=new_id("mer"), order_id=new_id("ord"), quote=quote,
                       payment_id=None, reason="returned_items", note="Both broken.", actor=APP, at=T0)


def test_a_refund_opens_pending_with_one_part_per_payment_oldest_first():
    order = order_paid_twice()
    refund = two_mugs(order)
    assert (refund.status, refund.amount) == ("pending", 2380)
    assert [(p.payment_id, p.amount, p.status) for p in refund.parts] == [
        (order.captures[0].payment_id, 1000, "pending"), (order.captures[1].payment_id, 1380, "pending")]
    assert Refund.from_dict(refund.to_dict()).to_dict() == refund.to_dict()


def test_every_part_succeeding_makes_the_refund_succeed_as_asked():
    refund = two_mugs(order_paid_twice())
    refund.settle([Outcome.succeeded("sbx_re_1"), Outcome.succeeded("sbx_re_2")], at=T0)
    assert (refund.status, refund.amount, refund.amount_requested) == ("succeeded", 2380, None)
    assert (refund.processor_reference, len(refund.lines)) == ("sbx_re_1", 1)


def test_the_first_part_failing_fails_the_refund_and_never_starts_the_next():
    refund = two_mugs(order_paid_twice())
    refund.settle([Outcome.failed("refund_exceeds_charge")], at=T0)
    assert (refund.status, refund.failure_reason) == ("failed", "refund_exceeds_charge")
    assert [(p.status, p.failure_reason) for p in refund.parts] == [
        ("failed", "refund_exceeds_charge"), ("failed", NOT_ATTEMPTED)]
    assert refund.as_past_refund().payments == []


def test_a_later_part_failing_leaves_a_refund_of_what_moved_with_its_items_given_back():
    # given a refund of two mugs over two payments
    order = order_paid_twice()
    refund = two_mugs(order)

    # when the first part moved 10.00 and the second was refused
    refund.settle([Outcome.succeeded("sbx_re_1"), Outcome.failed("unknown_charge")], at=T0)

    # then it succeeded for 10.00, asked 23.80, and holds no items any more
    assert (refund.status, refund.amount, refund.amount_requested) == ("succeeded", 1000, 2380)
    assert (refund.lines, refund.shipping) == ((), 0)
    after = order.model_copy(update={"refunds": [refund.as_past_refund()]})
    context = refund_context(after)
    assert (context.refunded, context.max_refundable) == (eur(1000), eur(1880))
    assert context.lines[0].refundable_quantity == 2
    assert [p.refundable for p in context.payments] == [eur(0), eur(1880)]


def test_a_refund_settles_once():
    refund = two_mugs(order_paid_twice())
    refund.settle([Outcome.failed("card_declined")], at=T0)
    with pytest.raises(ValueError, match="failed already"):
        refund.settle([Outcome.succeeded("sbx_re_1"), Outcome.succeeded("sbx_re_2")], at=T0)


@pytest.mark.parametrize("outcomes", [
    [],
    [Outcome.succeeded("a")],  # a run stops early only at a failure
    [Outcome.failed("x"), Outcome.succeeded("b")],  # nothing runs after a failure
    [Outcome.succeeded("a"), Outcome.succeeded("b"), Outcome.succeeded("c")],
])
def test_outcomes_that_no_run_can_give_are_refused(outcomes):
    parts = (Part(new_id("pay"), 100), Part(new_id("pay"), 200))
    with pytest.raises(ValueError):
        settle_parts(parts, outcomes)


@pytest.mark.parametrize("outcomes", [
    [Outcome.succeeded("sbx_re_1"), Outcome.succeeded("sbx_re_2")],
    [Outcome.failed("card_declined")],
    [Outcome.succeeded("sbx_re_1"), Outcome.failed("unknown_charge")],
])
def test_every_state_of_a_refund_makes_a_valid_event_with_the_context_after_it(outcomes):
    order = order_paid_twice()
    refund = two_mugs(order)
    events = [(types.REFUND_CREATED, refund.event_data(refund_context(order)))]
    refund.settle(outcomes, at=T0)
    after = order.model_copy(update={"refunds": [refund.as_past_refund()]}) if refund.holds_room else order
    kind = types.REFUND_SUCCEEDED if refund.status == "succeeded" else types.REFUND_FAILED
    events.append((kind, refund.event_data(refund_context(after))))
    for type_, data in events:
        envelope = build_envelope(type_, data, source="flint.refunds", merchant_id=refund.merchant_id)
        assert envelope.data["refund_context"]["currency"] == "EUR"
    assert events[-1][1].amount == eur(refund.amount)


def test_each_part_has_a_key_of_its_own_that_every_run_repeats():
    refund_id, first, second = new_id("rfd"), new_id("pay"), new_id("pay")
    assert part_key(refund_id, first) == part_key(refund_id, first) != part_key(refund_id, second)
    assert len(part_key(refund_id, first)) <= 255


def test_lines_of_a_refund_keep_their_money():
    order = order_paid_twice()
    refund = two_mugs(order)
    assert refund.lines == (RefundLine(line_item_id=order.lines[0].line_item_id, quantity=2, amount=eur(2380)),)
