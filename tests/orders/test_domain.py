"""The order record's rules, as a merchant or plugin developer would state them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_orders.domain import (
    Actor,
    ConflictingEvent,
    CurrencyMismatch,
    Customer,
    Discount,
    InvalidInput,
    InvalidTransition,
    NewLine,
    Order,
    RefundDetails,
    RefundLine,
    RefundPart,
    RefundRefused,
    TimelineEntry,
    TotalsMismatch,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MERCHANT = Actor(type="merchant", id=new_id("mer"))


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def usd(amount: int) -> Money:
    return Money(amount=amount, currency="USD")


def mug(quantity: int = 2, price: int = 1000, tax: int = 380) -> NewLine:
    return NewLine(title="Mug", sku="MUG-1", quantity=quantity, unit_price=eur(price), tax=eur(tax))


def new_order(*lines: NewLine, shipping: int = 500, discounts: tuple[Discount, ...] = (), **kw) -> Order:
    """2 mugs at 10.00 + 3.80 tax + 5.00 shipping = 28.80 EUR unless told otherwise."""
    return Order.create(
        merchant_id=new_id("mer"),
        number=1001,
        customer=Customer(email="ada@example.com", name="Ada"),
        currency=kw.pop("currency", "EUR"),
        lines=list(lines) or [mug()],
        shipping=eur(shipping),
        discounts=list(discounts),
        actor=MERCHANT,
        at=T0,
        **kw,
    )


def refund(amount: int, *, lines: tuple[RefundLine, ...] = (), shipping: int = 0, **kw) -> RefundDetails:
    return RefundDetails(
        refund_id=kw.pop("refund_id", None) or new_id("rfd"),
        amount=eur(amount),
        lines=lines,
        shipping=eur(shipping),
        reason="requested_by_customer",
        actor=Actor.app(new_id("app")),
        **kw,
    )


def paid_order(amount: int = 2880) -> tuple[Order, str]:
    order = new_order()
    payment_id = new_id("pay")
    order.record_payment_captured(payment_id, eur(amount), at=T0)
    return order, payment_id


# --- creating an order ----------------------------------------------------------------------


def test_totals_add_up_lines_tax_shipping_less_discounts():
    # given two mugs, a 5.00 shipping fee and a 3.00 voucher
    # when the order is created
    order = new_order(mug(), discounts=(Discount(code="WELCOME", amount=eur(300)),))

    # then the total is 20.00 + 3.80 + 5.00 - 3.00
    assert order.totals.subtotal == eur(2000)
    assert order.totals.tax == eur(380)
    assert order.totals.discount == eur(300)
    assert order.totals.total == eur(2580)
    assert order.line_items[0].total == eur(2380)


def test_a_new_order_is_open_unpaid_version_1_with_a_created_entry():
    # when
    order = new_order()

    # then
    assert (order.status, order.payment_status, order.version) == ("open", "unpaid", 1)
    assert order.amounts.balance_due == eur(2880)
    [entry] = order.new_entries
    assert (entry.sequence, entry.type, entry.event_type) == (1, "order.created", "order.created")
    assert entry.actor == MERCHANT
    assert entry.changes["payment_status"] == {"from": None, "to": "unpaid"}


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("lines[0].unit_price", {"lines": [NewLine(title="Mug", quantity=1, unit_price=usd(1))]}),
        ("lines[0].tax", {"lines": [NewLine(title="Mug", quantity=1, unit_price=eur(1), tax=usd(1))]}),
        ("shipping", {"shipping": usd(500)}),
        ("discounts[0].amount", {"discounts": [Discount(code="X", amount=usd(1))]}),
        ("expected_total", {"expected_total": usd(2880)}),
    ],
)
def test_mixed_currencies_are_refused_naming_the_field(field, changes):
    # given an order in EUR with one amount in another currency
    args = {
        "merchant_id": new_id("mer"), "number": 1, "customer": Customer(email="ada@example.com"),
        "currency": "EUR", "lines": [mug()], "shipping": eur(500), **changes,
    }  # fmt: skip

    # when / then
    with pytest.raises(CurrencyMismatch) as refused:
        Order.create(**args)
    assert refused.value.field == field


def test_an_unknown_currency_is_refused():
    with pytest.raises(InvalidInput) as refused:
        new_order(currency="XXX")
    assert refused.value.field == "currency"


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 2.0, True, "2"])
def test_quantities_must_be_whole_numbers_of_at_least_one(quantity):
    with pytest.raises(InvalidInput) as refused:
        new_order(mug(), NewLine(title="Cup", quantity=quantity, unit_price=eur(100)))
    assert refused.value.field == "lines[1].quantity"


def test_a_negative_price_is_refused():
    with pytest.raises(InvalidInput) as refused:
        new_order(mug(price=-1))
    assert refused.value.field == "lines[0].unit_price"


def test_an_order_without_lines_is_refused():
    with pytest.raises(InvalidInput) as refused:
        Order.create(merchant_id=new_id("mer"), number=1, customer=Customer(email="a@b.io"), currency="EUR", lines=[])
    assert refused.value.field == "lines"


def test_discounts_above_the_subtotal_are_refused():
    with pytest.raises(InvalidInput) as refused:
        new_order(mug(), discounts=(Discount(code="ALL", amount=eur(2001)),))
    assert refused.value.field == "discounts"


def test_an_expected_total_that_does_not_add_up_is_refused():
    # given a caller who thinks the order costs 28.00
    # when / then
    with pytest.raises(TotalsMismatch) as refused:
        new_order(expected_total=eur(2800))
    assert refused.value.field == "expected_total"
    assert "28.80 EUR" in refused.value.reason


def test_a_matching_expected_total_is_accepted():
    assert new_order(expected_total=eur(2880)).totals.total == eur(2880)


def test_a_zero_total_order_is_paid_from_the_start():
    # given a free sample shipped for free
    # when
    order = new_order(mug(quantity=1, price=0, tax=0), shipping=0)

    # then nothing is owed: it is paid, without a separate order.paid
    assert order.payment_status == "paid"
    assert order.amounts.balance_due == eur(0)
    assert [e.type for e in order.new_entries] == ["order.created"]


# --- payments -----------------------------------------------------------------------------------


def test_capturing_the_full_total_makes_the_order_paid():
    # given
    order = new_order()

    # when
    entry = order.record_payment_captured(new_id("pay"), eur(2880), method="card", at=T0)

    # then
    assert entry.type == "order.paid"
    assert order.payment_status == "paid"
    assert order.amounts.balance_due == eur(0)
    assert entry.previous["payment_status"] == "unpaid"
    assert entry.previous["amounts.balance_due"] == {"amount": 2880, "currency": "EUR"}


def test_a_partial_capture_leaves_a_balance_due():
    # given
    order = new_order()

    # when
    entry = order.record_payment_captured(new_id("pay"), eur(1000), at=T0)

    # then
    assert entry.type == "order.partially_paid"
    assert order.amounts.balance_due == eur(1880)


def test_a_refund_of_a_partly_paid_order_leaves_only_the_unpaid_part_due():
    # given an order of 28.80 of which 10.00 was paid
    order = new_order()
    order.record_payment_captured(new_id("pay"), eur(1000), at=T0)

    # when 4.00 of what was paid is refunded (goodwill)
    order.record_refund_created(refund(400), at=T0)
    order.record_refund_succeeded(refund(400), at=T0)

    # then the buyer still owes the 18.80 never paid, not the 4.00 given back
    assert (order.amounts.net_paid, order.amounts.balance_due, order.amounts.credit) == (eur(600), eur(1880), eur(0))


def test_the_same_payment_twice_is_recorded_once():
    # given
    order, payment_id = paid_order()

    # when the payment event is delivered again
    entry = order.record_payment_captured(payment_id, eur(2880), at=T0)

    # then nothing changes
    assert entry is None
    assert (order.version, len(order.payments), order.amounts.captured) == (2, 1, eur(2880))


def test_a_payment_in_another_currency_is_refused_and_changes_nothing():
    # given
    order = new_order()
    before = order.to_dict()

    # when / then
    with pytest.raises(CurrencyMismatch) as refused:
        order.record_payment_captured(new_id("pay"), Money(amount=2880, currency="USD"), at=T0)
    assert refused.value.field == "amount"
    assert order.to_dict() == before


def test_paying_more_than_the_total_leaves_credit():
    # given
    order, _ = paid_order()

    # when
    entry = order.record_payment_captured(new_id("pay"), eur(120), at=T0)

    # then it is no new "paid", but the order now holds credit
    assert entry.type == "order.updated"
    assert (order.amounts.balance_due, order.amounts.credit) == (eur(0), eur(120))


def test_a_failed_payment_stays_on_the_timeline_and_a_later_capture_of_it_counts():
    # given
    order = new_order()
    payment_id = new_id("pay")

    # when the first attempt is declined
    failed = order.record_payment_failed(payment_id, eur(2880), failure_code="card_declined", at=T0)

    # then it is recorded, not published, and nothing is paid
    assert (failed.type, failed.event_type, order.payment_status) == ("payment.failed", None, "unpaid")

    # when the same payment is captured on retry
    captured = order.record_payment_captured(payment_id, eur(2880), at=T0)

    # then
    assert captured.type == "order.paid"
    assert [p.status for p in order.payments] == ["captured"]


def test_a_late_failure_of_a_captured_payment_changes_nothing():
    order, payment_id = paid_order()
    assert order.record_payment_failed(payment_id, eur(2880), at=T0) is None
    assert order.payment_status == "paid"


# --- refunds ------------------------------------------------------------------------------------


def test_a_created_refund_is_pending_until_it_succeeds():
    # given
    order, _ = paid_order()

    # when
    entry = order.record_refund_created(refund(1000), at=T0)

    # then the money is held but still counts as paid
    assert (entry.type, entry.event_type) == ("refund.created", "order.updated")
    assert order.amounts.refund_pending == eur(1000)
    assert (order.payment_status, order.amounts.balance_due) == ("paid", eur(0))


def test_a_partial_refund_makes_the_order_partially_refunded_with_the_refund_lines():
    # given a paid order and a pending refund of one mug
    order, _ = paid_order()
    line = order.line_items[0]
    one_mug = refund(1190, lines=(RefundLine(line_item_id=line.id, quantity=1, amount=eur(1190)),))
    order.record_refund_created(one_mug, at=T0)

    # when the processor confirms it
    entry = order.record_refund_succeeded(one_mug, at=T0, processor_reference="re_123")

    # then
    assert entry.type == "order.partially_refunded"
    assert entry.data["refund"]["lines"] == [
        {"line_item_id": line.id, "quantity": 1, "amount": {"amount": 1190, "currency": "EUR"}}
    ]
    assert entry.data["refund"]["reason"] == "requested_by_customer"
    assert entry.data["refund"]["actor"]["type"] == "app"
    assert (order.amounts.refunded, order.amounts.refund_pending) == (eur(1190), eur(0))
    assert (order.amounts.balance_due, order.amounts.credit) == (eur(0), eur(0))  # nothing owed again
    assert entry.previous["payment_status"] == "paid"


def test_refunding_everything_makes_the_order_refunded():
    # given
    order, _ = paid_order()

    # when
    entry = order.record_refund_succeeded(refund(2880), at=T0)

    # then
    assert (entry.type, order.payment_status) == ("order.refunded", "refunded")


def test_a_failed_refund_releases_the_held_amount():
    # given
    order, _ = paid_order()
    details = refund(1000)
    order.record_refund_created(details, at=T0)

    # when
    entry = order.record_refund_failed(details, at=T0, failure_reason="card_expired")

    # then
    assert (entry.type, entry.event_type) == ("refund.failed", "order.updated")
    assert order.amounts.refund_pending == eur(0)
    assert order.refund_context().max_refundable == eur(2880)


def test_duplicate_and_late_refund_events_change_nothing():
    # given a refund that has succeeded
    order, _ = paid_order()
    details = refund(1000)
    order.record_refund_created(details, at=T0)
    order.record_refund_succeeded(details, at=T0)
    version = order.version

    # when its events are delivered again, out of order
    again = [order.record_refund_succeeded(details, at=T0), order.record_refund_created(details, at=T0)]

    # then
    assert again == [None, None]
    assert order.version == version


def test_a_refund_that_failed_after_it_succeeded_is_a_conflict():
    order, _ = paid_order()
    details = refund(1000)
    order.record_refund_succeeded(details, at=T0)
    with pytest.raises(ConflictingEvent):
        order.record_refund_failed(details, at=T0)


def test_a_refund_beyond_what_was_captured_is_refused():
    # given 28.80 captured and 20.00 already pending
    order, _ = paid_order()
    order.record_refund_created(refund(2000), at=T0)

    # when / then
    with pytest.raises(RefundRefused) as refused:
        order.record_refund_created(refund(900), at=T0)
    assert (refused.value.code, refused.value.field) == ("exceeds_refundable", "amount")
    assert order.amounts.refund_pending == eur(2000)


def test_refunding_more_mugs_than_were_bought_is_refused():
    order, _ = paid_order()
    line_id = order.line_items[0].id
    lines = (
        RefundLine(line_item_id=line_id, quantity=2, amount=eur(0)),
        RefundLine(line_item_id=line_id, quantity=1, amount=eur(0)),
    )
    with pytest.raises(RefundRefused) as refused:
        order.record_refund_created(refund(100, lines=lines), at=T0)
    assert (refused.value.code, refused.value.field) == ("line_quantity_exceeded", "lines[1].quantity")


def test_a_refund_naming_an_unknown_payment_is_refused():
    order, _ = paid_order()
    with pytest.raises(RefundRefused) as refused:
        order.record_refund_created(refund(100, payment_id=new_id("pay")), at=T0)
    assert refused.value.code == "unknown_payment"


def paid_twice() -> tuple[Order, str, str]:
    """The order paid 10.00, then 18.80."""
    order, first, second = new_order(), new_id("pay"), new_id("pay")
    order.record_payment_captured(first, eur(1000), at=T0)
    order.record_payment_captured(second, eur(1880), at=T0 + timedelta(minutes=1))
    return order, first, second


def test_a_refund_that_moved_less_than_it_held_keeps_only_what_moved():
    # given a pending refund of both mugs, 10.00 from the first payment and 13.80 from the second
    order, first, second = paid_twice()
    both = (RefundLine(line_item_id=order.line_items[0].id, quantity=2, amount=eur(2380)),)
    refund_id = new_id("rfd")
    parts = (RefundPart(first, eur(1000), "pending"), RefundPart(second, eur(1380), "pending"))
    order.record_refund_created(refund(2380, lines=both, refund_id=refund_id, payments=parts), at=T0)

    # when it succeeded for the first part only (the second part was refused by the processor)
    settled = (RefundPart(first, eur(1000), "succeeded", processor_reference="sbx_re_1"),
               RefundPart(second, eur(1380), "failed", failure_reason="unknown_charge"))
    entry = order.record_refund_succeeded(refund(1000, refund_id=refund_id, payments=settled,
                                                 amount_requested=eur(2380)), at=T0, processor_reference="sbx_re_1")

    # then the order refunded what moved, holds nothing more, and the mugs are refundable again
    assert entry.type == "order.partially_refunded"
    assert (order.amounts.refunded, order.amounts.refund_pending) == (eur(1000), eur(0))
    assert entry.data["refund"]["amount_requested"] == {"amount": 2380, "currency": "EUR"}
    context = order.refund_context()
    assert (context.lines[0].refundable_quantity, context.max_refundable) == (2, eur(1880))
    assert [p.refundable for p in context.payments] == [eur(0), eur(1880)]


def test_a_refund_cannot_succeed_for_more_than_it_held():
    order, _ = paid_order()
    refund_id = new_id("rfd")
    order.record_refund_created(refund(1000, refund_id=refund_id), at=T0)
    with pytest.raises(ConflictingEvent):
        order.record_refund_succeeded(refund(1200, refund_id=refund_id), at=T0)
    assert order.amounts.refund_pending == eur(1000)


def test_a_refund_from_a_payment_the_order_has_not_seen_is_refused_until_it_has():
    order, _ = paid_order()
    stranger = new_id("pay")
    with pytest.raises(RefundRefused) as refused:
        order.record_refund_created(refund(100, payments=(RefundPart(stranger, eur(100), "pending"),)), at=T0)
    assert refused.value.code == "unknown_payment"


def test_parts_that_disagree_with_the_refund_are_invalid():
    order, payment_id = paid_order()
    with pytest.raises(InvalidInput):
        order.record_refund_created(refund(100, payments=(RefundPart(payment_id, eur(90), "pending"),)), at=T0)


# --- refund context -----------------------------------------------------------------------------


def test_refund_context_shows_what_is_left_per_line_shipping_and_payment():
    # given a paid order with one mug and the shipping pending refund against the payment
    order, payment_id = paid_order()
    line = order.line_items[0]
    one_mug = (RefundLine(line_item_id=line.id, quantity=1, amount=eur(1190)),)
    order.record_refund_succeeded(refund(1190, lines=one_mug), at=T0)
    order.record_refund_created(refund(500, shipping=500, payment_id=payment_id), at=T0)

    # when
    context = order.refund_context()

    # then
    assert (context.captured, context.refunded, context.pending) == (eur(2880), eur(1190), eur(500))
    assert context.max_refundable == eur(1190)
    assert (context.lines[0].refundable_quantity, context.lines[0].refundable_amount) == (1, eur(1190))
    assert context.shipping_refundable == eur(0)
    # every refund takes from a payment: the mug's (split oldest capture first) and the shipping's
    assert context.payments[0].refundable == eur(1190)
    assert context.refusal_reasons == []


@pytest.mark.parametrize(
    ("story", "code"),
    [
        ("unpaid", "not_paid"),
        ("canceled unpaid", "order_voided"),
        ("fully refunded", "fully_refunded"),
        ("all pending", "pending_refunds_hold_remainder"),
    ],
)
def test_refund_context_says_why_a_refund_would_be_refused(story, code):
    # given
    order = new_order()
    if story == "canceled unpaid":
        order.cancel("customer", actor=MERCHANT, at=T0)
    if story in ("fully refunded", "all pending"):
        order.record_payment_captured(new_id("pay"), eur(2880), at=T0)
        record = order.record_refund_succeeded if story == "fully refunded" else order.record_refund_created
        record(refund(2880), at=T0)

    # when
    reasons = order.refund_context().refusal_reasons

    # then
    assert [r.code for r in reasons] == [code]
    assert reasons[0].message


# --- invoices -------------------------------------------------------------------------------------


def test_invoice_events_go_on_the_timeline_without_moving_money():
    # given
    order = new_order()
    invoice_id = new_id("inv")

    # when
    created = order.record_invoice(invoice_id, "open", eur(2880), event_type="invoice.created", at=T0)
    reminded = order.record_invoice(
        invoice_id, "open", eur(2880), event_type="invoice.reminder_sent", reminder_number=1, at=T0
    )

    # then
    assert (created.type, created.event_type, reminded.type) == ("invoice.created", None, "invoice.reminder_sent")
    assert order.invoices[0].reminders_sent == 1
    assert order.amounts.balance_due == eur(2880)


def test_sending_an_open_invoice_is_on_the_timeline_once():
    # given an open invoice
    order = new_order()
    invoice_id = new_id("inv")
    order.record_invoice(invoice_id, "open", eur(2880), event_type="invoice.created", at=T0)

    # when it is sent, and the "sent" event arrives again under another event id
    sent = order.record_invoice(invoice_id, "open", eur(2880), event_type="invoice.sent", at=T0)
    again = order.record_invoice(invoice_id, "open", eur(2880), event_type="invoice.sent", at=T0)

    # then sending, which changes no status, is recorded once
    assert (sent.type, again) == ("invoice.sent", None)
    assert sent.changes[f"invoices.{invoice_id}.sent"] == {"from": False, "to": True}


def test_an_invoice_event_older_than_what_the_order_holds_changes_nothing():
    # given a paid invoice
    order = new_order()
    invoice_id = new_id("inv")
    order.record_invoice(invoice_id, "paid", eur(0), event_type="invoice.paid", at=T0)

    # when the earlier "sent" arrives late
    late = order.record_invoice(invoice_id, "open", eur(2880), event_type="invoice.sent", at=T0)

    # then
    assert late is None
    assert order.invoices[0].status == "paid"


# --- notes, tags, metadata --------------------------------------------------------------------------


def test_a_note_is_added_with_its_author():
    order = new_order()
    entry = order.add_note("  Gift wrap, please.  ", actor=MERCHANT, at=T0)
    assert entry.type == "order.note_added"
    assert (order.notes[0].body, order.notes[0].actor) == ("Gift wrap, please.", MERCHANT)
    assert entry.data["note"]["id"].startswith("not_")


def test_an_empty_note_is_refused():
    with pytest.raises(InvalidInput):
        new_order().add_note("   ", actor=MERCHANT)


def test_tags_are_normalized_and_adding_one_twice_changes_nothing():
    # given
    order = new_order()

    # when
    first = order.add_tag("  VIP   Customer ", actor=MERCHANT, at=T0)
    second = order.add_tag("vip customer", actor=MERCHANT, at=T0)

    # then
    assert order.tags == ["vip customer"]
    assert first.changes["tags"] == {"from": [], "to": ["vip customer"]}
    assert second is None
    assert order.version == 2


def test_removing_a_tag_the_order_lacks_changes_nothing():
    order = new_order()
    order.add_tag("vip", actor=MERCHANT)
    assert order.remove_tag("wholesale", actor=MERCHANT) is None
    assert order.remove_tag("VIP", actor=MERCHANT).changes["tags"] == {"from": ["vip"], "to": []}


def test_an_app_replaces_only_its_own_metadata_namespace():
    # given two apps with data on the order
    order = new_order()
    loyalty, reviews = new_id("app"), new_id("app")
    order.set_metadata(loyalty, {"points": 10, "tier": "gold"}, at=T0)
    order.set_metadata(reviews, {"asked": True}, at=T0)

    # when the loyalty app writes again
    entry = order.set_metadata(loyalty, {"points": 25}, at=T0)

    # then its namespace is replaced, the other is untouched
    assert order.metadata == {loyalty: {"points": 25}, reviews: {"asked": True}}
    assert (entry.type, entry.actor) == ("order.metadata_updated", Actor.app(loyalty))
    assert entry.previous == {f"metadata.{loyalty}": {"points": 10, "tier": "gold"}}


def test_writing_the_same_metadata_again_changes_nothing():
    order = new_order()
    app_id = new_id("app")
    order.set_metadata(app_id, {"points": 10})
    assert order.set_metadata(app_id, {"points": 10}) is None
    assert order.version == 2


# --- cancel and complete -----------------------------------------------------------------------------


def test_canceling_an_unpaid_order_voids_it():
    # given
    order = new_order()

    # when
    entry = order.cancel("customer changed their mind", actor=MERCHANT, at=T0)

    # then
    assert entry.type == "order.canceled"
    assert (order.status, order.payment_status, order.amounts.balance_due) == ("canceled", "voided", eur(0))


def test_canceling_a_partly_paid_order_turns_what_was_paid_into_credit():
    # given
    order = new_order()
    order.record_payment_captured(new_id("pay"), eur(1000), at=T0)

    # when
    order.cancel("out of stock", actor=MERCHANT, at=T0)

    # then nothing is owed and the 10.00 kept is to be given back
    assert order.payment_status == "partially_paid"
    assert (order.amounts.balance_due, order.amounts.credit) == (eur(0), eur(1000))


def test_an_order_cannot_be_canceled_twice():
    canceled = new_order()
    canceled.cancel(actor=MERCHANT)
    with pytest.raises(InvalidTransition):
        canceled.cancel(actor=MERCHANT)
    assert canceled.version == 2


# --- timeline and storage -------------------------------------------------------------------------------


def test_every_change_gets_the_next_sequence_and_version():
    # given / when
    order, _ = paid_order()
    order.add_note("called the customer", actor=MERCHANT)
    order.add_tag("vip", actor=MERCHANT)

    # then
    assert [e.sequence for e in order.new_entries] == [1, 2, 3, 4]
    assert order.version == 4


def test_a_rejected_event_leaves_a_note_on_the_timeline():
    order = new_order()
    entry = order.record_rejected_event("payment.captured", new_id("evt"), "currency_mismatch: amount is in USD")
    assert (entry.type, entry.event_type, entry.changes) == ("event.rejected", None, {})
    assert order.version == 2


def test_the_service_collects_new_entries_once_and_knows_the_version_it_loaded():
    # given an order loaded from storage at version 2
    stored, _ = paid_order()
    order = Order.from_dict(stored.to_dict())

    # when two changes are made
    order.add_note("one", actor=MERCHANT)
    order.record_invoice(new_id("inv"), "open", eur(0), event_type="invoice.created")

    # then
    assert order.loaded_version == 2
    assert [e.type for e in order.new_entries if e.event_type] == ["order.note_added"]
    assert [e.sequence for e in order.pull_new_entries()] == [3, 4]
    assert order.new_entries == ()


def test_the_order_round_trips_through_its_stored_form_exactly():
    # given an order with a bit of everything
    order, payment_id = paid_order()
    line = order.line_items[0]
    one_mug = (RefundLine(line_item_id=line.id, quantity=1, amount=eur(1190)),)
    order.record_refund_succeeded(refund(1190, lines=one_mug), at=T0)
    order.record_invoice(new_id("inv"), "open", eur(1190), event_type="invoice.sent", hosted_url="https://pay/x")
    order.add_note("n", actor=MERCHANT, at=T0 + timedelta(hours=1))
    order.add_tag("vip", actor=MERCHANT)
    order.set_metadata(new_id("app"), {"nested": {"a": [1, 2]}})

    # when
    stored = order.to_dict()
    loaded = Order.from_dict(stored)

    # then
    assert loaded.to_dict() == stored
    assert stored["amounts"]["refunded"] == {"amount": 1190, "currency": "EUR"}
    assert stored["payment_status"] == "partially_refunded"
    entries = [TimelineEntry.from_dict(e.to_dict()) for e in order.new_entries]
    assert entries == list(order.new_entries)
