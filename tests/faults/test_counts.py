"""The fault ledger's counts catch what they are meant to catch (tests/faults/counts.py), on
made-up inputs: a webhook dropped, delivered twice or out of sequence; an invoice charged
twice, or acknowledged to the buyer without its charge, its stored payment or its event."""

from __future__ import annotations

from tests.faults.counts import invoice_counts, out_of_sequence, webhook_counts


def event(event_id: str, order: str, sequence: int, kind: str = "order.updated") -> dict:
    return {"id": event_id, "subject": order, "sequence": sequence, "type": kind}


ON_TOPIC = [event("e1", "o1", 1, "order.created"), event("e2", "o2", 1, "order.created"), event("e3", "o1", 2),
            event("e4", "o1", 3), event("i1", "ins_1", 0, "install.created")]


def test_every_order_event_delivered_once_in_sequence_counts_nothing():
    counts = webhook_counts(ON_TOPIC, [ON_TOPIC[1], ON_TOPIC[0], ON_TOPIC[2], ON_TOPIC[3]])
    assert (counts.received, counts.lost, counts.copies, counts.out_of_order) == (4, 0, 0, 0)


def test_a_dropped_webhook_is_lost():
    assert webhook_counts(ON_TOPIC, [ON_TOPIC[0], ON_TOPIC[1], ON_TOPIC[3]]).lost == 1


def test_a_copy_is_counted_and_a_late_copy_is_not_disorder():
    counts = webhook_counts(ON_TOPIC, [ON_TOPIC[0], ON_TOPIC[1], ON_TOPIC[2], ON_TOPIC[3], ON_TOPIC[2]])
    assert (counts.lost, counts.copies, counts.out_of_order) == (0, 1, 0)


def test_an_orders_events_delivered_out_of_sequence_are_counted():
    counts = webhook_counts(ON_TOPIC, [ON_TOPIC[0], ON_TOPIC[3], ON_TOPIC[1], ON_TOPIC[2]])
    assert (counts.lost, counts.out_of_order) == (0, 1)


def test_sequence_is_per_order():
    assert out_of_sequence([event("a", "o1", 5), event("b", "o2", 1), event("c", "o1", 6)]) == 0
    assert out_of_sequence([event("a", "o1", 5), event("b", "o1", 2), event("c", "o1", 3)]) == 2


def paid_once(**changes) -> dict:
    """One invoice ``inv_1`` of 1000 acknowledged, and everything showing it paid once; ``changes``
    replaces one of the inputs."""
    inputs = {"created": {"inv_1", "inv_2"}, "acknowledged": {"inv_1": 1000}, "charges": {"inv_1": [1000]},
              "stored": {"inv_1": ("paid", 1000), "inv_2": ("open", 0)}, "captured": {"inv_1": {"pay_1"}}}
    return invoice_counts(**{**inputs, **changes})


def test_an_invoice_paid_once_counts_nothing():
    counts = paid_once()
    assert (counts.paid, counts.charged_twice, counts.mismatches) == (1, 0, 0)


def test_an_invoice_charged_twice_is_counted_acknowledged_or_not():
    assert paid_once(charges={"inv_1": [1000, 1000]}).charged_twice == 1
    assert paid_once(charges={"inv_1": [1000], "inv_2": [500, 500]}).charged_twice == 1
    assert paid_once(captured={"inv_1": {"pay_1", "pay_2"}}).charged_twice == 1


def test_an_acknowledged_payment_that_does_not_show_everywhere_is_a_mismatch():
    assert paid_once(charges={}).mismatches == 1
    assert paid_once(charges={"inv_1": [900]}).mismatches == 1
    assert paid_once(stored={"inv_1": ("open", 0)}).mismatches == 1
    assert paid_once(captured={}).mismatches == 1
    assert paid_once(charges={}, captured={}).mismatches == 1  # one invoice, however many ways wrong
