"""Refund rules by example: what a refund returns, and why one is refused (docs/payments.md)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.refund_rules import OrderMoney, refund_context, refusals
from flint_contracts.refund_rules.shares import cumulative_share, largest_remainder
from tests.contracts.refund_orders import after, capture, codes, eur, items, line, paid_order, refund, settled


# --- rounding: the parts always add up -------------------------------------------------------


def test_three_items_refunded_one_at_a_time_return_exactly_the_line_total():
    # given a line of 3 items at 10.00 EUR with 1.00 EUR tax for the line (33.33... per item)
    mugs = line(quantity=3, unit_price=1000, tax=100)
    order = paid_order(mugs)

    # when each item is refunded on its own
    first = refund(order, lines=[items(mugs, 1)])
    order = after(order, first)
    second = refund(order, lines=[items(mugs, 1)])
    order = after(order, second)
    third = refund(order, lines=[items(mugs, 1)])

    # then the tax goes 0.33, 0.34, 0.33 and the three refunds return the line's 31.00 EUR
    assert [q.lines[0].tax.amount for q in (first, second, third)] == [33, 34, 33]
    assert sum(q.total.amount for q in (first, second, third)) == 3100
    assert refund(paid_order(mugs), lines=[items(mugs, 3)]).total == eur(3100)


def test_a_discount_is_shared_over_lines_by_largest_remainder():
    # given three lines of equal price and a discount of 1.00 EUR
    a, b, c = line(1, 1000), line(1, 1000), line(1, 1000)
    order = paid_order(a, b, c, discount=100)

    context = refund_context(order)

    # then the discount shares are 0.34, 0.33, 0.33: the first line takes the odd cent
    assert [entry.discount.amount for entry in context.lines] == [34, 33, 33]
    assert [entry.refundable_amount.amount for entry in context.lines] == [966, 967, 967]


def test_a_line_refund_returns_its_share_of_the_discount_less():
    tent, mug = line(1, 9000, tax=0), line(2, 500, tax=0)
    order = paid_order(tent, mug, discount=1000)  # shares 900 and 100

    quote = refund(order, lines=[items(mug, 1)])

    assert (quote.lines[0].subtotal, quote.lines[0].discount, quote.lines[0].amount) == (eur(500), eur(50), eur(450))


def test_the_last_items_take_what_the_line_has_left_even_after_a_failed_refund():
    # given 2 items at 10.00 EUR with 0.01 EUR tax for the line: the first item carries the cent
    pens = line(quantity=2, unit_price=1000, tax=1)
    order = paid_order(pens)
    first_id = new_id("rfd")
    first = refund(order, lines=[items(pens, 1)])
    order = after(order, first, status="pending", refund_id=first_id)
    # the other item is refunded while the first refund is pending, then the first one fails
    second = refund(order, lines=[items(pens, 1)])
    order = settled(after(order, second), first_id, "failed")

    # when the item left is refunded again
    again = refund(order, lines=[items(pens, 1)])

    # then the line returns exactly its 20.01 EUR: not a cent more, not a cent less
    assert (first.total, second.total) == (eur(1001), eur(1000))
    assert second.total.amount + again.total.amount == 2001
    assert refund_context(after(order, again)).lines[0].refundable_amount == eur(0)


def test_largest_remainder_and_cumulative_shares_are_exact_at_the_ends():
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(0, [0, 0]) == [0, 0]
    assert largest_remainder(5, [0, 3]) == [0, 5]
    assert [cumulative_share(100, done, 3) for done in range(4)] == [0, 33, 67, 100]
    with pytest.raises(ValueError):
        largest_remainder(1, [0, 0])


# --- what a refund returns and where the money goes ------------------------------------------


def test_lines_shipping_and_a_goodwill_amount_add_up_to_the_total():
    tent = line(1, 12900, tax=0)
    order = paid_order(tent, shipping=490)

    order = order.model_copy(update={"captures": [capture(13390 + 1000)]})  # the buyer overpaid 10.00

    quote = refund(order, lines=[items(tent, 1)], shipping="remaining", amount=eur(1000))

    assert quote.accepted
    assert (quote.lines[0].amount, quote.shipping, quote.amount) == (eur(12900), eur(490), eur(1000))
    assert quote.total == eur(14390)
    assert sum(share.amount.amount for share in quote.payments) == 14390


def test_a_refund_goes_back_to_the_oldest_capture_first():
    tent = line(1, 10000)
    first, second = capture(6000, minutes_after=0), capture(4000, minutes_after=5)
    order = OrderMoney(currency="EUR", lines=[tent], shipping=eur(0), captures=[second, first])

    quote = refund(order, amount=eur(7000))

    assert [(share.payment_id, share.amount.amount) for share in quote.payments] == [
        (first.payment_id, 6000),
        (second.payment_id, 1000),
    ]


def test_a_named_payment_takes_the_whole_refund_or_refuses_it():
    tent = line(1, 10000)
    first, second = capture(6000, 0), capture(4000, 5)
    order = OrderMoney(currency="EUR", lines=[tent], shipping=eur(0), captures=[first, second])

    to_second = refund(order, amount=eur(3000), payment_id=second.payment_id)
    too_much = refund(order, amount=eur(5000), payment_id=second.payment_id)
    unknown = refund(order, amount=eur(100), payment_id=new_id("pay"))

    assert [(s.payment_id, s.amount.amount) for s in to_second.payments] == [(second.payment_id, 3000)]
    assert codes(too_much) == [refusals.PAYMENT_EXCEEDED]
    assert codes(unknown) == [refusals.UNKNOWN_PAYMENT]


def test_goodwill_can_return_what_an_overpaying_buyer_paid_beyond_the_total():
    mug = line(1, 1000)
    order = OrderMoney(currency="EUR", lines=[mug], shipping=eur(0), captures=[capture(1500)])

    assert refund(order, amount=eur(1500)).accepted
    assert codes(refund(order, amount=eur(1501))) == [refusals.EXCEEDS_REFUNDABLE]


# --- why a refund is refused -----------------------------------------------------------------


def test_pending_refunds_take_room():
    # given a paid order of 40.00 EUR with a pending refund of 30.00 EUR
    mug = line(4, 1000)
    order = paid_order(mug)
    order = after(order, refund(order, amount=eur(3000)), status="pending")

    # when 15.00 EUR more is asked for
    quote = refund(order, amount=eur(1500))

    # then it is refused, and the message says pending refunds hold the rest
    assert codes(quote) == [refusals.EXCEEDS_REFUNDABLE]
    assert "30.00 EUR held by pending refunds" in quote.refusals[0].message
    assert quote.max_refundable == eur(1000)


def test_a_failed_refund_gives_its_room_back():
    mug = line(4, 1000)
    order = paid_order(mug)
    order = after(order, refund(order, lines=[items(mug, 4)]), status="failed")

    assert refund(order, lines=[items(mug, 4)]).accepted
    assert refund_context(order).max_refundable == eur(4000)


def test_every_reason_a_request_is_refused_is_listed():
    mug = line(2, 1000)
    order = paid_order(mug, shipping=300)
    stranger = new_id("lin")

    quote = refund(
        order,
        lines=[items(mug, 3), {"line_item_id": stranger, "quantity": 1}],
        shipping=eur(400),
        amount=Money(amount=100, currency="USD"),
    )

    assert [(r.code, r.field) for r in quote.refusals] == [
        (refusals.LINE_QUANTITY_EXCEEDED, "lines[0].quantity"),
        (refusals.UNKNOWN_LINE, "lines[1].line_item_id"),
        (refusals.SHIPPING_EXCEEDED, "shipping"),
        (refusals.CURRENCY_MISMATCH, "amount"),
    ]
    assert not quote.accepted


def test_items_already_refunded_or_being_refunded_cannot_be_asked_again():
    mug = line(2, 1000)
    order = paid_order(mug)
    order = after(order, refund(order, lines=[items(mug, 1)]), status="pending")

    assert refund(order, lines=[items(mug, 1)]).accepted
    assert codes(refund(order, lines=[items(mug, 2)])) == [refusals.LINE_QUANTITY_EXCEEDED]


def test_a_line_asked_twice_is_refused_rather_than_guessed():
    mug = line(3, 1000)
    quote = refund(paid_order(mug), lines=[items(mug, 1), items(mug, 1)])

    assert [(r.code, r.field) for r in quote.refusals] == [(refusals.DUPLICATE_LINE, "lines[1].line_item_id")]


def test_an_unpaid_or_voided_order_refunds_nothing():
    mug = line(1, 1000)
    unpaid = OrderMoney(currency="EUR", lines=[mug], shipping=eur(0))
    voided = unpaid.model_copy(update={"canceled": True})

    assert codes(refund(unpaid, lines=[items(mug, 1)])) == [refusals.NOT_PAID]
    assert codes(refund(voided, lines=[items(mug, 1)])) == [refusals.ORDER_VOIDED]
    assert [r.code for r in refund_context(unpaid).refusals] == [refusals.NOT_PAID]


def test_an_empty_request_refunds_nothing():
    order = paid_order(line(1, 1000))

    assert codes(refund(order)) == [refusals.NOTHING_TO_REFUND]
    assert codes(refund(order, shipping="remaining")) == [refusals.NOTHING_TO_REFUND]  # no shipping charged


def test_the_context_says_when_everything_is_refunded_or_held():
    mug = line(1, 1000)
    order = paid_order(mug)
    everything = refund(order, lines=[items(mug, 1)])

    held = refund_context(after(order, everything, status="pending"))
    done = refund_context(after(order, everything, status="succeeded"))

    assert [r.code for r in held.refusals] == [refusals.PENDING_REFUNDS_HOLD_REMAINDER]
    assert [r.code for r in done.refusals] == [refusals.FULLY_REFUNDED]
    assert (done.refunded, done.pending, done.max_refundable) == (eur(1000), eur(0), eur(0))


def test_a_refused_quote_cannot_be_taken_as_a_refund():
    quote = refund(paid_order(line(1, 1000)), amount=eur(5000))

    with pytest.raises(ValueError, match="exceeds_refundable"):
        quote.as_refund(new_id("rfd"))


# --- what the rules refuse to read -----------------------------------------------------------


def test_order_money_in_another_currency_is_refused():
    with pytest.raises(ValidationError, match="shipping is in USD"):
        OrderMoney(currency="EUR", lines=[line(1, 1000)], shipping=Money(amount=0, currency="USD"))


def test_discounts_above_the_subtotal_are_refused():
    with pytest.raises(ValidationError, match="exceed the subtotal"):
        OrderMoney(currency="EUR", lines=[line(1, 1000, tax=500)], shipping=eur(0), discounts=[eur(1001)])


def test_a_refund_naming_a_line_or_payment_the_order_lacks_is_refused():
    mug = line(1, 1000)
    order = paid_order(mug)
    taken = refund(order, lines=[items(mug, 1)]).as_refund(new_id("rfd")).model_dump()
    stray_line = {**taken, "lines": [{**taken["lines"][0], "line_item_id": new_id("lin")}]}
    stray_payment = {**taken, "payments": [{**taken["payments"][0], "payment_id": new_id("pay")}]}

    for stray, reason in ((stray_line, "not on the order"), (stray_payment, "not captured")):
        with pytest.raises(ValidationError, match=reason):
            OrderMoney.model_validate({**order.model_dump(), "refunds": [stray]})


def test_a_plain_amount_at_the_bound_is_refused_not_an_error():
    order = paid_order(line(1, 1000), shipping=500)
    quote = refund(order, shipping="remaining", amount=eur(2**53 - 1))
    assert codes(quote) == ["exceeds_refundable"]
    assert quote.total == eur(2**53 - 1)
