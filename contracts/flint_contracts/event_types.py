"""The central registry of event and command types: names, labels, topics and scopes.

Every type a Flint topic carries is registered here once. Services name types with the
constants below (``ORDER_PAID``, never the string), the delivery worker routes with
:func:`deliverable_to`, and the consent page describes scopes with :data:`SCOPES`.

Scopes do not imply one another: ``orders:write`` does not grant ``orders:read``. An app
asks for exactly what it reads, and the consent page shows exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flint_contracts import topics

SCOPES: dict[str, str] = {
    "orders:read": "See your orders: customers, line items, payments, refunds, invoices, notes and history.",
    "orders:write": "Add notes and tags to your orders and keep its own data on them.",
    "refunds:read": "See refunds on your orders, with their lines, amounts, reasons and who asked for them.",
    "refunds:write": "Refund your orders, in full or in part, back to the customer's payment.",
    "invoices:read": "See invoices for your orders and whether they were sent, paid or overdue.",
    "invoices:write": "Create, send, remind about and void invoices for what is still owed on your orders.",
}


class UnknownEventTypeError(KeyError):
    """An event or command type that is not in the registry."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else "unknown event type"


@dataclass(frozen=True)
class EventType:
    """One registered type.

    ``scope`` is what a plugin needs to receive it; ``None`` means every installed app gets
    it (it is about the app's own install). Internal types (payments, commands) are never
    delivered to plugins, whatever their scopes.
    """

    name: str
    label: str
    topic: str
    scope: str | None = None
    is_command: bool = False
    internal: bool = False

    @property
    def deliverable(self) -> bool:
        """True when the type can reach a plugin's topic and webhooks."""
        return not (self.internal or self.is_command)


# Commands to the orders service (imperative).
ORDER_CREATE = "order.create"
ORDER_CANCEL = "order.cancel"
ORDER_ADD_NOTE = "order.add_note"

# Orders.
ORDER_CREATED = "order.created"
ORDER_UPDATED = "order.updated"
ORDER_PAID = "order.paid"
ORDER_PARTIALLY_PAID = "order.partially_paid"
ORDER_REFUNDED = "order.refunded"
ORDER_PARTIALLY_REFUNDED = "order.partially_refunded"
ORDER_CANCELED = "order.canceled"
ORDER_NOTE_ADDED = "order.note_added"
ORDER_METADATA_UPDATED = "order.metadata_updated"

# Payments (internal: plugins see their effect as order.paid / order.partially_paid).
PAYMENT_CAPTURED = "payment.captured"
PAYMENT_FAILED = "payment.failed"

# Refunds.
REFUND_CREATED = "refund.created"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"

# Invoices.
INVOICE_CREATED = "invoice.created"
INVOICE_SENT = "invoice.sent"
INVOICE_REMINDER_SENT = "invoice.reminder_sent"
INVOICE_OVERDUE = "invoice.overdue"
INVOICE_PAID = "invoice.paid"
INVOICE_VOIDED = "invoice.voided"
INVOICE_MARKED_UNCOLLECTIBLE = "invoice.marked_uncollectible"

# Installs and their webhook endpoints (every app gets these about itself).
INSTALL_CREATED = "install.created"
INSTALL_SCOPES_UPDATED = "install.scopes_updated"
INSTALL_UNINSTALLED = "install.uninstalled"
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"

# Merchants (internal: services that show a merchant's name keep a copy of it).
MERCHANT_CREATED = "merchant.created"


def _command(name: str, label: str) -> EventType:
    return EventType(name, label, topics.ORDERS_COMMANDS, is_command=True, internal=True)


def _order(name: str, label: str) -> EventType:
    return EventType(name, label, topics.ORDERS_EVENTS, "orders:read")


def _payment(name: str, label: str) -> EventType:
    return EventType(name, label, topics.PAYMENTS_EVENTS, internal=True)


def _refund(name: str, label: str) -> EventType:
    return EventType(name, label, topics.REFUNDS_EVENTS, "refunds:read")


def _invoice(name: str, label: str) -> EventType:
    return EventType(name, label, topics.INVOICES_EVENTS, "invoices:read")


def _install(name: str, label: str) -> EventType:
    return EventType(name, label, topics.INSTALLS_EVENTS)


REGISTRY: dict[str, EventType] = {
    t.name: t
    for t in (
        _command(ORDER_CREATE, "Create an order"),
        _command(ORDER_CANCEL, "Cancel an order"),
        _command(ORDER_ADD_NOTE, "Add a note to an order"),
        _order(ORDER_CREATED, "Order created"),
        _order(ORDER_UPDATED, "Order updated"),
        _order(ORDER_PAID, "Order paid"),
        _order(ORDER_PARTIALLY_PAID, "Order partially paid"),
        _order(ORDER_REFUNDED, "Order refunded"),
        _order(ORDER_PARTIALLY_REFUNDED, "Order partially refunded"),
        _order(ORDER_CANCELED, "Order canceled"),
        _order(ORDER_NOTE_ADDED, "Note added to order"),
        _order(ORDER_METADATA_UPDATED, "Order app metadata updated"),
        _payment(PAYMENT_CAPTURED, "Payment captured"),
        _payment(PAYMENT_FAILED, "Payment failed"),
        _refund(REFUND_CREATED, "Refund created"),
        _refund(REFUND_SUCCEEDED, "Refund succeeded"),
        _refund(REFUND_FAILED, "Refund failed"),
        _invoice(INVOICE_CREATED, "Invoice created"),
        _invoice(INVOICE_SENT, "Invoice sent"),
        _invoice(INVOICE_REMINDER_SENT, "Invoice reminder sent"),
        _invoice(INVOICE_OVERDUE, "Invoice overdue"),
        _invoice(INVOICE_PAID, "Invoice paid"),
        _invoice(INVOICE_VOIDED, "Invoice voided"),
        _invoice(INVOICE_MARKED_UNCOLLECTIBLE, "Invoice marked uncollectible"),
        _install(INSTALL_CREATED, "App installed"),
        _install(INSTALL_SCOPES_UPDATED, "App permissions changed"),
        _install(INSTALL_UNINSTALLED, "App uninstalled"),
        _install(WEBHOOK_ENDPOINT_DISABLED, "Webhook endpoint disabled"),
        EventType(MERCHANT_CREATED, "Merchant created", topics.INSTALLS_EVENTS, internal=True),
    )
}


def get(type_: str) -> EventType:
    """The registered type named ``type_``; :class:`UnknownEventTypeError` when there is none."""
    try:
        return REGISTRY[type_]
    except KeyError:
        raise UnknownEventTypeError(
            f"unknown event type {type_!r}; registered types are in flint_contracts.event_types"
        ) from None


def for_topic(topic: str) -> list[EventType]:
    """The types that travel on ``topic``, in registry order."""
    return [t for t in REGISTRY.values() if t.topic == topic]


def deliverable_to(scopes: Iterable[str]) -> set[str]:
    """Names of the types a plugin holding ``scopes`` receives on its topic and webhooks.

    Raises ``ValueError`` for a scope that does not exist, so a misspelt scope fails loudly
    instead of silently delivering nothing.
    """
    granted = set(scopes)
    unknown = granted - SCOPES.keys()
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}; known scopes are {sorted(SCOPES)}")
    return {t.name for t in REGISTRY.values() if t.deliverable and (t.scope is None or t.scope in granted)}
