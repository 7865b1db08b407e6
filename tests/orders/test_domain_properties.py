"""Money invariants that hold after any sequence of payments, refunds and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime

from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_orders.domain import Actor, Customer, Discount, DomainError, NewLine, Order, RefundDetails
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MERCHANT = Actor(type="merchant", id=new_id("mer"))


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def expected_payment_status(order: Order) -> str:
    """docs/orders.md, "Money rules", written out again independently of the domain."""
    total = order.totals.total.amount
    captured = sum(p.amount.amount for p in order.payments if p.status == "captured")
    refunded = sum(r.amount.amount for r in order.refunds if r.status == "succeeded")
    if order.status == "canceled" and captured == 0:
        return "voided"
    if refunded and refunded >= captured:
        return "refunded"
    if refunded:
        return "partially_refunded"
    if captured >= total:
        return "paid"
    return "partially_paid" if captured else "unpaid"


orders = st.builds(
    lambda price, quantity, tax, shipping, discount_share: (price, quantity, tax, shipping, discount_share),
    price=st.integers(0, 5000),
    quantity=st.integers(1, 5),
    tax=st.integers(0, 1000),
    shipping=st.integers(0, 1000),
    discount_share=st.sampled_from([0, 0, 50, 100]),  # percent of the subtotal; 100 can make a free order
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("capture"), st.integers(1, 6000), st.integers(0, 3)),
        st.tuples(st.just("fail_payment"), st.integers(1, 6000), st.integers(0, 3)),
        st.tuples(st.just("create_refund"), st.integers(1, 6000), st.integers(0, 3)),
        st.tuples(st.just("succeed_refund"), st.integers(1, 6000), st.integers(0, 3)),
        st.tuples(st.just("fail_refund"), st.integers(1, 6000), st.integers(0, 3)),
        st.tuples(st.just("pay_balance"), st.just(0), st.integers(0, 3)),
        st.tuples(st.just("refund_the_rest"), st.just(0), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.just(0), st.just(0)),
        st.tuples(st.just("note"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


def make_order(price: int, quantity: int, tax: int, shipping: int, discount_share: int) -> Order:
    subtotal = price * quantity
    discount = subtotal * discount_share // 100
    discounts = [Discount(code="D", amount=eur(discount))] if discount else []
    return Order.create(
        merchant_id=new_id("mer"),
        number=1,
        customer=Customer(email="ada@example.com"),
        currency="EUR",
        lines=[NewLine(title="Thing", quantity=quantity, unit_price=eur(price), tax=eur(tax))],
        shipping=eur(shipping),
        discounts=discounts,
        actor=MERCHANT,
        at=T0,
    )


def apply(order: Order, step: tuple[str, int, int], payment_ids: list[str], refund_ids: list[str]) -> None:
    """One step; ids are drawn from small pools so duplicates and replays happen often."""
    kind, amount, slot = step
    payment_id, refund_id = payment_ids[slot], refund_ids[slot]
    # Exact amounts reach the edges (paid, refunded) that random ones almost never hit.
    if kind == "pay_balance":
        kind, amount = "capture", max(order.amounts.balance_due.amount, 1)
    if kind == "refund_the_rest":
        kind, amount = "succeed_refund", max(order.refund_context().max_refundable.amount, 1)
    details = RefundDetails(refund_id=refund_id, amount=eur(amount))
    actions = {
        "capture": lambda: order.record_payment_captured(payment_id, eur(amount), at=T0),
        "fail_payment": lambda: order.record_payment_failed(payment_id, eur(amount), at=T0),
        "create_refund": lambda: order.record_refund_created(details, at=T0),
        "succeed_refund": lambda: order.record_refund_succeeded(details, at=T0),
        "fail_refund": lambda: order.record_refund_failed(details, at=T0),
        "cancel": lambda: order.cancel("other", actor=MERCHANT, at=T0),
        "note": lambda: order.add_note("called", actor=MERCHANT, at=T0),
    }
    actions[kind]()


def run(shape: tuple, story: list) -> Order:
    """Plays the story; a refused step must leave the order exactly as it was."""
    order = make_order(*shape)
    payment_ids, refund_ids = [new_id("pay") for _ in range(4)], [new_id("rfd") for _ in range(4)]
    for step in story:
        before = order.to_dict()
        try:
            apply(order, step, payment_ids, refund_ids)
        except DomainError:
            assert order.to_dict() == before
        check_money_invariants(order)
    return order


def check_money_invariants(order: Order) -> None:
    amounts = order.amounts
    owed = 0 if order.status == "canceled" else amounts.total.amount - amounts.refunded.amount
    assert not (amounts.balance_due.amount > 0 and amounts.credit.amount > 0)
    assert owed == amounts.net_paid.amount + amounts.balance_due.amount - amounts.credit.amount
    assert amounts.refunded.amount + amounts.refund_pending.amount <= amounts.captured.amount
    assert min(amounts.balance_due.amount, amounts.credit.amount, amounts.refund_pending.amount) >= 0
    assert order.payment_status == expected_payment_status(order)


@settings(max_examples=150, deadline=None)
@given(shape=orders, story=steps)
def test_money_invariants_hold_after_any_story(shape, story):
    # given / when
    order = run(shape, story)

    # then (checked after every step inside run)
    assert order.refund_context().max_refundable.amount >= 0


@settings(max_examples=100, deadline=None)
@given(shape=orders, story=steps)
def test_timeline_is_gap_free_and_version_counts_its_entries(shape, story):
    # given / when
    order = run(shape, story)

    # then
    entries = order.new_entries
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert order.version == len(entries)


@settings(max_examples=100, deadline=None)
@given(shape=orders, story=steps)
def test_what_is_due_is_what_was_never_captured_while_open(shape, story):
    # given an order that is never canceled
    order = run(shape, [step for step in story if step[0] != "cancel"])

    # then refunds neither ask the buyer again for money given back nor make credit of it
    amounts = order.amounts
    assert amounts.total - amounts.refunded == amounts.net_paid + amounts.balance_due - amounts.credit
    assert amounts.balance_due.amount == max(amounts.total.amount - amounts.captured.amount, 0)
    assert amounts.credit.amount == max(amounts.captured.amount - amounts.total.amount, 0)


@settings(max_examples=75, deadline=None)
@given(shape=orders, story=steps)
def test_the_stored_form_round_trips_after_any_story(shape, story):
    # given
    order = run(shape, story)

    # when
    stored = order.to_dict()

    # then
    assert Order.from_dict(stored).to_dict() == stored
