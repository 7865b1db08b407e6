"""The event-type registry: what exists, where it travels, who may receive it."""

from __future__ import annotations

import pytest

from flint_contracts import event_types, topics
from flint_contracts.event_types import REGISTRY, SCOPES, UnknownEventTypeError, deliverable_to, get

# The list under "Events to plugins" in PRODUCT.md.
PRODUCT_EVENT_TYPES = {
    "order.created", "order.updated", "order.paid", "order.partially_paid", "order.refunded",
    "order.partially_refunded", "order.canceled", "order.note_added", "order.metadata_updated",
    "refund.created", "refund.succeeded", "refund.failed",
    "invoice.created", "invoice.sent", "invoice.reminder_sent", "invoice.overdue", "invoice.paid",
    "invoice.voided", "invoice.marked_uncollectible",
    "install.created", "install.scopes_updated", "install.uninstalled",
    "webhook_endpoint.disabled",
}  # fmt: skip
INTERNAL_TYPES = {"payment.captured", "payment.failed", "order.create", "order.cancel", "order.add_note", "merchant.created"}
ABOUT_THE_APP_ITSELF = {"install.created", "install.scopes_updated", "install.uninstalled", "webhook_endpoint.disabled"}


def test_every_event_type_promised_to_plugins_is_registered_and_deliverable() -> None:
    assert PRODUCT_EVENT_TYPES <= REGISTRY.keys()
    assert all(get(name).deliverable for name in PRODUCT_EVENT_TYPES)


def test_the_registry_holds_exactly_the_product_types_payments_and_order_commands() -> None:
    assert REGISTRY.keys() == PRODUCT_EVENT_TYPES | INTERNAL_TYPES


def test_every_registered_type_travels_on_a_known_topic() -> None:
    for event_type in REGISTRY.values():
        assert event_type.topic in topics.REGISTRY, event_type.name


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("order.paid", topics.ORDERS_EVENTS),
        ("order.create", topics.ORDERS_COMMANDS),
        ("payment.captured", topics.PAYMENTS_EVENTS),
        ("refund.created", topics.REFUNDS_EVENTS),
        ("invoice.overdue", topics.INVOICES_EVENTS),
        ("install.uninstalled", topics.INSTALLS_EVENTS),
    ],
)
def test_types_travel_on_their_owners_topic(name: str, topic: str) -> None:
    assert get(name).topic == topic


def test_order_commands_are_commands_and_never_reach_plugins() -> None:
    for name in ("order.create", "order.cancel", "order.add_note"):
        assert get(name).is_command
        assert not get(name).deliverable
    assert not any(get(name).is_command for name in PRODUCT_EVENT_TYPES)


def test_every_constant_names_a_registered_type_and_every_type_has_a_constant() -> None:
    constants = {
        value for key, value in vars(event_types).items() if key.isupper() and isinstance(value, str)
    }
    assert constants == REGISTRY.keys()
    assert event_types.ORDER_CREATED == "order.created"
    assert event_types.REFUND_SUCCEEDED == "refund.succeeded"


def test_labels_are_distinct_words() -> None:
    labels = [event_type.label for event_type in REGISTRY.values()]
    assert len(set(labels)) == len(labels)
    assert all(" " in label and label[0].isupper() for label in labels)


def test_an_unknown_type_is_refused_with_its_name() -> None:
    with pytest.raises(KeyError) as raised:
        get("order.exploded")
    assert isinstance(raised.value, UnknownEventTypeError)
    assert "order.exploded" in str(raised.value)


def test_scopes_are_the_six_product_scopes_each_described_in_words() -> None:
    assert set(SCOPES) == {
        "orders:read", "orders:write", "refunds:read", "refunds:write", "invoices:read", "invoices:write"
    }  # fmt: skip
    for scope, description in SCOPES.items():
        assert len(description.split()) >= 5, scope
        assert scope not in description


def test_every_scope_a_type_requires_exists() -> None:
    for event_type in REGISTRY.values():
        assert event_type.scope is None or event_type.scope in SCOPES


# --- deliverable_to --------------------------------------------------------------------------


def test_an_app_without_scopes_hears_only_about_itself() -> None:
    assert deliverable_to(set()) == ABOUT_THE_APP_ITSELF


def test_orders_read_delivers_order_events_but_not_refunds_or_invoices() -> None:
    delivered = deliverable_to({"orders:read"})
    assert {"order.created", "order.paid", "order.partially_refunded", "order.note_added"} <= delivered
    assert ABOUT_THE_APP_ITSELF <= delivered
    assert not any(name.startswith(("refund.", "invoice.")) for name in delivered)


def test_refunds_read_delivers_refund_events_with_their_context() -> None:
    delivered = deliverable_to({"refunds:read"})
    assert {"refund.created", "refund.succeeded", "refund.failed"} <= delivered
    assert "order.paid" not in delivered


def test_invoices_read_delivers_every_invoice_event() -> None:
    delivered = deliverable_to({"invoices:read"})
    assert {name for name in PRODUCT_EVENT_TYPES if name.startswith("invoice.")} <= delivered
    assert "refund.created" not in delivered


def test_write_scopes_do_not_imply_read() -> None:
    assert deliverable_to({"orders:write", "refunds:write", "invoices:write"}) == ABOUT_THE_APP_ITSELF


def test_all_scopes_deliver_every_plugin_event_but_never_payments_or_commands() -> None:
    delivered = deliverable_to(SCOPES.keys())
    assert delivered == PRODUCT_EVENT_TYPES
    assert not delivered & INTERNAL_TYPES


def test_a_misspelt_scope_fails_loudly() -> None:
    with pytest.raises(ValueError, match="orders:raed"):
        deliverable_to({"orders:raed"})
