"""Refund rules under any order, any split and any interleaving (hypothesis).

- the parts of every quote add up to its total, and its payment split to what it refunds;
- no sequence of refunds, pending, succeeded or failed, takes more than was captured, or more
  than a line, the shipping or a payment holds;
- refunding everything, in any split and any order, returns exactly what was captured.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flint_contracts.ids import new_id
from flint_contracts.refund_rules import (
    Capture,
    OrderMoney,
    RefundQuote,
    RefundRequest,
    RequestedLine,
    quote_refund,
    refund_context,
    refusals,
)
from flint_contracts.refund_rules.shares import largest_remainder, share_of_units
from tests.contracts.refund_orders import T0, after, eur, line, order_total, settled

PROPERTY = settings(max_examples=150, deadline=None)


# --- the sharing rules ----------------------------------------------------------------------


@PROPERTY
@given(total=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_largest_remainder_parts_add_up_and_stay_within_a_unit_of_their_share(total, weights):
    if sum(weights) == 0:
        total = 0
    parts = largest_remainder(total, weights)

    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * sum(weights) - total * weight) < sum(weights) or sum(weights) == 0
        assert weight or part == 0


@st.composite
def runs(draw, count: int) -> list[int]:
    """``count`` units cut into consecutive runs of random length."""
    cuts = sorted(draw(st.sets(st.integers(1, count - 1), max_size=count - 1))) if count > 1 else []
    edges = [0, *cuts, count]
    return [b - a for a, b in zip(edges, edges[1:])]


@PROPERTY
@given(total=st.integers(0, 10**9), count=st.integers(1, 40), data=st.data())
def test_units_refunded_in_any_runs_carry_exactly_the_whole(total, count, data):
    done, shares = 0, []
    for units in data.draw(runs(count)):
        shares.append(share_of_units(total, done, units, count))
        assert abs(shares[-1] * count - total * units) <= count  # within a unit of the exact share
        done += units

    assert sum(shares) == total


# --- orders and requests ----------------------------------------------------------------------


@st.composite
def unpaid_orders(draw) -> OrderMoney:
    lines = [
        line(draw(st.integers(1, 6)), draw(st.integers(0, 5000)), draw(st.integers(0, 1500)))
        for _ in range(draw(st.integers(1, 4)))
    ]
    subtotal = sum(item.subtotal() for item in lines)
    discount = draw(st.one_of(st.just(0), st.integers(0, subtotal)))
    return OrderMoney(
        currency="EUR",
        lines=lines,
        shipping=eur(draw(st.integers(0, 1500))),
        discounts=[eur(discount)] if discount else [],
    )


def captures_of(amounts: list[int], minutes: list[int]) -> list[Capture]:
    return [
        Capture(payment_id=new_id("pay"), amount=eur(amount), captured_at=T0 + timedelta(minutes=minute))
        for amount, minute in zip(amounts, minutes, strict=True)
    ]


@st.composite
def fully_paid_orders(draw) -> OrderMoney:
    """An order whose total (above zero) was captured exactly, in one to three payments."""
    order = draw(unpaid_orders())
    total = order_total(order)
    assume(total > 0)  # a free order captured nothing and refunds nothing
    cuts = sorted(draw(st.sets(st.integers(1, total - 1), max_size=2))) if total > 1 else []
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    minutes = draw(st.permutations(range(len(amounts))))  # listed in any order, captured in another
    return order.model_copy(update={"captures": captures_of(amounts, list(minutes))})


@st.composite
def any_paid_orders(draw) -> OrderMoney:
    """An order with zero to three captures of any size: unpaid, partly paid, paid or overpaid."""
    order = draw(unpaid_orders())
    amounts = draw(st.lists(st.integers(1, order_total(order) + 2000), max_size=3))
    return order.model_copy(update={"captures": captures_of(amounts, list(range(len(amounts))))})


@st.composite
def requests(draw, order: OrderMoney) -> RefundRequest:
    """Any request, sensible or not: too many items, unknown lines, too much shipping, ..."""
    known = [item.line_item_id for item in order.lines]
    ids = draw(st.lists(st.sampled_from([*known, new_id("lin")]), max_size=3))
    lines = [RequestedLine(line_item_id=i, quantity=draw(st.integers(1, 7))) for i in ids]
    shipping = draw(st.one_of(st.none(), st.just("remaining"), st.integers(0, 1600).map(eur)))
    amount = draw(st.one_of(st.none(), st.integers(1, order_total(order) + 2500).map(eur)))
    payments = [capture.payment_id for capture in order.captures]
    payment_id = draw(st.one_of(st.none(), st.sampled_from([*payments, new_id("pay")])))
    return RefundRequest(lines=lines, shipping=shipping, amount=amount, payment_id=payment_id)


# --- what every quote and every sequence of refunds keeps --------------------------------------


def assert_parts_add_up(quote: RefundQuote, exact_lines: bool) -> None:
    assert {refusal.code for refusal in quote.refusals} <= refusals.CODES  # every reason has a stable code
    lines = sum(q.amount.amount for q in quote.lines)
    assert quote.total.amount == lines + quote.shipping.amount + quote.amount.amount
    assert sum(share.amount.amount for share in quote.payments) <= quote.total.amount
    assert all(q.amount.amount >= 0 for q in quote.lines)
    if quote.accepted:
        assert sum(share.amount.amount for share in quote.payments) == quote.total.amount
    if exact_lines:  # without failed refunds the line rule has no leftovers to absorb
        for q in quote.lines:
            assert q.amount.amount == q.subtotal.amount + q.tax.amount - q.discount.amount


def assert_never_over_refunded(order: OrderMoney) -> None:
    holding = [r for r in order.refunds if r.status != "failed"]
    assert sum(r.amount.amount for r in holding) <= sum(c.amount.amount for c in order.captures)
    assert sum(r.shipping_amount for r in holding) <= order.shipping.amount
    for item in order.lines:
        parts = [p for r in holding for p in r.lines if p.line_item_id == item.line_item_id]
        assert sum(p.quantity for p in parts) <= item.quantity
        assert sum(p.amount.amount for p in parts) <= item.subtotal() + item.tax.amount
    for capture in order.captures:
        shares = [s for r in holding for s in r.payments if s.payment_id == capture.payment_id]
        assert sum(s.amount.amount for s in shares) <= capture.amount.amount
    context = refund_context(order)
    assert sum(entry.refundable.amount for entry in context.payments) == context.max_refundable.amount


@PROPERTY
@given(order=any_paid_orders(), data=st.data())
def test_no_interleaving_of_requests_refunds_more_than_there_is(order, data):
    pending: list[str] = []
    for _ in range(data.draw(st.integers(1, 8))):
        quote = quote_refund(order, data.draw(requests(order)))
        assert_parts_add_up(quote, exact_lines=not any(r.status == "failed" for r in order.refunds))
        if quote.accepted:
            refund_id, status = new_id("rfd"), data.draw(st.sampled_from(["pending", "succeeded", "failed"]))
            order = after(order, quote, status, refund_id=refund_id)
            pending += [refund_id] if status == "pending" else []
        if pending and data.draw(st.booleans()):  # a pending refund settles meanwhile
            order = settled(order, pending.pop(0), data.draw(st.sampled_from(["succeeded", "failed"])))
        assert_never_over_refunded(order)


@st.composite
def pieces_of_everything(draw, order: OrderMoney) -> list[list[tuple[str, int]]]:
    """Every item of every line and all the shipping, cut into pieces, shuffled and grouped
    into refunds: ``[[("lin_…", 2), ("shipping", 150)], ...]``."""
    pieces = [(item.line_item_id, units) for item in order.lines for units in draw(runs(item.quantity))]
    if order.shipping.amount:
        pieces += [("shipping", amount) for amount in draw(runs(order.shipping.amount)) if amount]
    pieces = list(draw(st.permutations(pieces)))
    groups = []
    while pieces:
        size = draw(st.integers(1, 3))
        groups.append(pieces[:size])
        pieces = pieces[size:]
    return groups


def request_for(group: list[tuple[str, int]]) -> RefundRequest:
    quantities: dict[str, int] = {}
    shipping = 0
    for what, units in group:
        if what == "shipping":
            shipping += units
        else:
            quantities[what] = quantities.get(what, 0) + units
    return RefundRequest(
        lines=[RequestedLine(line_item_id=i, quantity=q) for i, q in quantities.items()],
        shipping=eur(shipping) if shipping else None,
    )


@PROPERTY
@given(order=fully_paid_orders(), data=st.data())
def test_refunding_everything_in_any_split_and_order_returns_exactly_what_was_captured(order, data):
    work = data.draw(pieces_of_everything(order))
    held: list[tuple[str, list[tuple[str, int]]]] = []  # pending refunds that will fail later
    while work or held:
        if held and (not work or data.draw(st.booleans())):
            refund_id, group = held.pop(0)
            order = settled(order, refund_id, "failed")  # its items and money are free again
            work.append(group)
            continue
        group = work.pop(0)
        quote = quote_refund(order, request_for(group))
        if quote.total.amount == 0:
            # Items worth less than a cent each can come to 0.00, and a refund must return
            # money: the buyer asks for them together with the next ones.
            assert [r.code for r in quote.refusals] == [refusals.NOTHING_TO_REFUND]
            work[:1] = [group + work[0]] if work else []
            continue
        assert quote.accepted, quote.refusals
        assert_parts_add_up(quote, exact_lines=not any(r.status == "failed" for r in order.refunds))
        refund_id, fate = new_id("rfd"), data.draw(st.sampled_from(["pending", "succeeded", "fails later"]))
        order = after(order, quote, "pending" if fate == "fails later" else fate, refund_id=refund_id)
        held += [(refund_id, group)] if fate == "fails later" else []

    context = refund_context(order)
    captured = sum(c.amount.amount for c in order.captures)
    assert sum(r.amount.amount for r in order.refunds if r.status != "failed") == captured == order_total(order)
    assert context.max_refundable.amount == 0 and context.shipping_refundable.amount == 0
    for entry in context.lines:
        assert entry.refundable_amount.amount == 0  # items worth nothing may stay unrefunded
        taken = [p for r in order.refunds if r.status != "failed" for p in r.lines if p.line_item_id == entry.line_item_id]
        assert sum(p.amount.amount for p in taken) == entry.total.amount - entry.discount.amount
    assert all(entry.refundable.amount == 0 for entry in context.payments)
