"""Who receives an event (the routing rules, without a database): scopes, merchants, internal
types, and install events that concern one app only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flint_contracts import event_types as types
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from flint_installs.delivery.recipients import Recipient, routes
from tests.contracts import contract_samples as make
from tests.installs.delivery import events

MERCHANT, OTHER_MERCHANT = new_id("mer"), new_id("mer")


def recipient(scopes: tuple[str, ...] = ("orders:read",), *, merchant: str = MERCHANT, active: bool = True,
              created_at=make.NOW - timedelta(days=1)) -> Recipient:
    return Recipient(install_id=new_id("ins"), app_id=new_id("app"), merchant_id=merchant, scopes=scopes,
                     active=active, created_at=created_at)


def order_event(type_: str = types.ORDER_CREATED, merchant: str = MERCHANT):
    return events.order_event(type_, merchant_id=merchant, time=make.NOW)


def refund_event(type_: str = types.REFUND_CREATED):
    return events.refund_event(type_, merchant_id=MERCHANT, time=make.NOW)


def invoice_event(type_: str = types.INVOICE_SENT):
    return events.invoice_event(type_, merchant_id=MERCHANT, time=make.NOW)


def install_event(target: Recipient, type_: str = types.INSTALL_SCOPES_UPDATED):
    status = "uninstalled" if type_ == types.INSTALL_UNINSTALLED else "active"
    data = make.install(install_id=target.install_id, app_id=target.app_id, merchant_id=target.merchant_id,
                        scopes=list(target.scopes), status=status)
    return build_envelope(type_, data, source="flint.installs", time=make.NOW)


def receivers(event, candidates: list[Recipient]) -> list[Recipient]:
    return [route.recipient for route in routes(event, candidates)]


@pytest.mark.parametrize(("scope", "event"), [
    ("orders:read", order_event()), ("refunds:read", refund_event()), ("invoices:read", invoice_event()),
])
def test_each_scope_lets_its_own_events_through_and_no_others(scope, event):
    holders = [recipient((s,)) for s in ("orders:read", "refunds:read", "invoices:read", "orders:write",
                                         "refunds:write", "invoices:write")]
    assert [r.scopes for r in receivers(event, holders)] == [(scope,)]


def test_an_app_without_refunds_read_never_gets_a_refund_event():
    without = recipient(("orders:read", "refunds:write", "invoices:read"))
    for type_ in (types.REFUND_CREATED, types.REFUND_SUCCEEDED, types.REFUND_FAILED):
        assert receivers(refund_event(type_), [without]) == []


def test_another_merchants_install_never_gets_the_event():
    mine, theirs = recipient(), recipient(merchant=OTHER_MERCHANT)
    assert receivers(order_event(), [mine, theirs]) == [mine]


def test_internal_types_are_never_delivered_whatever_the_scopes():
    everything = recipient(tuple(types.SCOPES))
    captured = build_envelope(types.PAYMENT_CAPTURED, make.payment_captured(), source="flint.payments",
                              merchant_id=MERCHANT, time=make.NOW)
    assert receivers(captured, [everything]) == []


def test_an_install_event_goes_to_that_install_only_whatever_its_scopes():
    # given two apps of the same merchant, one with no read scope at all
    target, bystander = recipient(("refunds:write",)), recipient(tuple(types.SCOPES))
    event = install_event(target)
    assert [(r.recipient, r.webhooks) for r in routes(event, [target, bystander])] == [(target, True)]


def test_an_uninstalled_install_gets_its_uninstall_event_on_its_topic_but_nothing_else():
    gone = recipient(active=False)
    [route] = routes(install_event(gone, types.INSTALL_UNINSTALLED), [gone])
    assert route.recipient == gone and route.webhooks is False
    assert receivers(install_event(gone, types.INSTALL_SCOPES_UPDATED), [gone]) == []
    assert receivers(order_event(), [gone]) == []


def test_an_install_does_not_receive_what_happened_before_it_was_created():
    newer = recipient(created_at=make.NOW + timedelta(seconds=1))
    same_moment = recipient(created_at=make.NOW)
    assert receivers(order_event(), [newer, same_moment]) == [same_moment]


def test_an_event_without_a_merchant_goes_nowhere():
    event = order_event().model_copy(update={"merchant_id": None})
    assert receivers(event, [recipient()]) == []
