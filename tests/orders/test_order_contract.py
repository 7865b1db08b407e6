"""Every order the domain can produce, and every event it emits, is what the contracts say.

Refunds, invoicing, delivery and plugins read orders with ``flint_contracts.order`` and
``flint_contracts.events.OrderEventData`` only. Here hypothesis plays random stories on the
domain (odd text, currencies, refunds by line, invoices, metadata, tags, notes, cancels,
refused changes) and every state and event must validate against those models.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import OrderEventData, parse_data
from flint_contracts.ids import new_id
from flint_contracts.literals import INVOICE_STATUSES, PAYMENT_METHODS, REFUND_REASONS
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_contracts.timeline import INVOICE_TIMELINE_TYPES
from flint_orders.domain import (
    Actor,
    Customer,
    Discount,
    DomainError,
    NewLine,
    Order,
    RefundDetails,
    RefundLine,
    RefundPart,
)
from flint_orders.handlers import Cause, order_event
from flint_orders.schemas import RefundContext

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CURRENCIES = ["EUR", "JPY", "KWD"]
# Text a caller may send: ordinary, blank, padded, long, and with what storage cannot hold.
texts = st.one_of(
    st.sampled_from(["Mug", "  Blue mug  ", "", "   ", "a/b", "x" * 501, "NUL\x00", "bell\x07", "\ud800"]),
    st.text(max_size=40),
)
emails = st.sampled_from(["ada@example.com", " ada@example.com ", "ada@example", "a b@example.com",
                          "ada@@example.com", "ada\x00@example.com", "ä@example.de"])
actors = st.sampled_from([Actor(type="merchant", id=new_id("mer")), Actor(type="app", id=new_id("app")),
                          Actor(type="buyer"), Actor(type="system", id="flint.checkout")])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=True) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def new_orders(draw: st.DrawFn) -> tuple[Order, str]:
    currency = draw(st.sampled_from(CURRENCIES))
    money = st.integers(-5, 20_000).map(lambda amount: Money(amount=amount, currency=currency))
    lines = draw(st.lists(st.builds(NewLine, title=texts, quantity=st.integers(0, 4), unit_price=money,
                                    tax=st.none() | money, sku=st.none() | texts), min_size=1, max_size=3))
    discounts = draw(st.lists(st.builds(Discount, code=texts, amount=money), max_size=2))
    order = Order.create(
        merchant_id=new_id("mer"), number=draw(st.integers(1001, 5000)),
        customer=Customer(email=draw(emails), name=draw(st.none() | texts)), currency=currency, lines=lines,
        shipping=draw(st.none() | money), discounts=discounts, tags=draw(st.lists(texts, max_size=3)),
        actor=draw(actors), at=T0,
    )  # fmt: skip
    return order, currency


steps = st.lists(
    st.tuples(
        st.sampled_from(["capture", "fail_payment", "refund", "note", "tag", "untag", "metadata", "invoice",
                         "cancel", "reject"]),
        st.sampled_from(["pending", "succeeded", "failed"]),
        st.integers(0, 3),  # which id of a small pool, so repeats and replays happen
        st.integers(1, 30_000),
    ),
    max_size=12,
)


def apply(order: Order, step: tuple, draw: st.DrawFn, pools: dict[str, list[str]]) -> None:
    kind, status, slot, amount = step
    money = Money(amount=amount, currency=order.currency)
    if kind == "capture":
        order.record_payment_captured(pools["pay"][slot], money, method=draw(st.sampled_from(sorted(PAYMENT_METHODS))),
                                      invoice_id=draw(st.none() | st.just(pools["inv"][slot])), at=T0)
    elif kind == "fail_payment":
        order.record_payment_failed(pools["pay"][slot], money, failure_code=draw(st.none() | texts),
                                    failure_message=draw(st.none() | texts), at=T0)
    elif kind == "refund":
        details = _refund(order, draw, pools["rfd"][slot], pools["pay"][slot], money)
        {"pending": order.record_refund_created, "succeeded": order.record_refund_succeeded,
         "failed": order.record_refund_failed}[status](details, at=T0, **_refund_extra(status, draw))
    elif kind == "note":
        order.add_note(draw(texts), actor=draw(actors), at=T0)
    elif kind in ("tag", "untag"):
        (order.add_tag if kind == "tag" else order.remove_tag)(draw(texts), actor=draw(actors), at=T0)
    elif kind == "metadata":
        order.set_metadata(pools["app"][slot % 2], draw(st.dictionaries(texts, json_values, max_size=3)), at=T0)
    elif kind == "invoice":
        order.record_invoice(pools["inv"][slot], draw(st.sampled_from(sorted(INVOICE_STATUSES))), money,
                             event_type=draw(st.sampled_from(sorted(INVOICE_TIMELINE_TYPES))), at=T0,
                             overdue=draw(st.booleans()), hosted_url=draw(st.none() | texts),
                             reminder_number=draw(st.none() | st.integers(1, 3)))
    elif kind == "cancel":
        order.cancel(draw(texts), actor=draw(actors), at=T0)
    else:
        order.record_rejected_event(types.PAYMENT_CAPTURED, new_id("evt"), draw(texts), at=T0)


def _refund(order: Order, draw: st.DrawFn, refund_id: str, payment_id: str, amount: Money) -> RefundDetails:
    line_ids = [line.id for line in order.line_items] + [new_id("lin")]
    lines = draw(st.lists(st.builds(
        RefundLine, line_item_id=st.sampled_from(line_ids), quantity=st.integers(-1, 3),
        amount=st.integers(0, 5000).map(lambda a: Money(amount=a, currency=order.currency))), max_size=2))
    parts = draw(st.lists(st.builds(
        RefundPart, payment_id=st.sampled_from([payment_id, new_id("pay")]),
        amount=st.sampled_from([amount.amount, amount.amount // 2, 0]).map(lambda a: Money(amount=a, currency=order.currency)),
        status=st.sampled_from(["pending", "succeeded", "failed"]), processor_reference=st.none() | st.just("sbx_re_1"),
        failure_reason=st.none() | texts), max_size=2))
    return RefundDetails(
        refund_id=refund_id, amount=amount, lines=tuple(lines),
        shipping=draw(st.none() | st.integers(0, 600).map(lambda a: Money(amount=a, currency=order.currency))),
        payment_id=draw(st.none() | st.just(payment_id)), reason=draw(st.sampled_from(sorted(REFUND_REASONS))),
        note=draw(st.none() | texts), actor=draw(actors), payments=tuple(parts),
        amount_requested=draw(st.none() | st.just(Money(amount=amount.amount + 1, currency=order.currency))),
    )  # fmt: skip


def _refund_extra(status: str, draw: st.DrawFn) -> dict:
    if status == "succeeded":
        return {"processor_reference": draw(st.none() | texts)}
    return {"failure_reason": draw(st.none() | texts)} if status == "failed" else {}


def check_against_contract(order: Order) -> None:
    """The order as stored and read, and each event its new entries publish."""
    snapshot = order.to_dict()
    assert OrderRecord.model_validate(snapshot).model_dump(mode="json") == snapshot
    RefundContext.model_validate(order.refund_context().to_dict())
    for entry in order.pull_new_entries():
        if entry.event_type is None:
            continue
        sent = order_event(order.merchant_id, snapshot, entry, Cause(correlation_id=new_id("evt")))
        data = parse_data(EventEnvelope.from_bytes(sent.to_bytes()))
        assert isinstance(data, OrderEventData)
        assert (data.order.version, data.timeline_type) == (entry.sequence, entry.type)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), story=steps)
def test_every_order_and_event_the_domain_produces_fits_the_contract(data: st.DataObject, story: list) -> None:
    # given any order the domain accepts
    try:
        order, _ = data.draw(new_orders())
    except DomainError:
        return  # refused input creates nothing
    check_against_contract(order)
    pools = {prefix: [new_id(prefix) for _ in range(4)] for prefix in ("pay", "rfd", "inv", "app")}

    # when any story plays on it (refused steps included)
    for step in story:
        try:
            apply(order, step, data.draw, pools)
        except DomainError:
            pass
        # then every state it reaches, and every event it emits, fits the contract
        check_against_contract(order)
