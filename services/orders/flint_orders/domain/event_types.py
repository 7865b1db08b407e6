"""The timeline and event types of an order, with a human-readable label for each.

``ORDER_EVENT_TYPES`` are published on flint.orders.events.v1 (PRODUCT.md, "Events to
plugins"); ``TIMELINE_ONLY_TYPES`` only appear on the order's timeline, because their source
service publishes the event itself.
"""

from __future__ import annotations

# Types published on flint.orders.events.v1, with labels.
ORDER_EVENT_TYPES: dict[str, str] = {
    "order.created": "Order created",
    "order.updated": "Order updated",
    "order.paid": "Order paid in full",
    "order.partially_paid": "Payment captured, a balance remains",
    "order.refunded": "Order fully refunded",
    "order.partially_refunded": "Order partially refunded",
    "order.canceled": "Order canceled",
    "order.note_added": "Note added",
    "order.metadata_updated": "App metadata updated",
}
# Types that only appear on the timeline: their source service publishes the event itself.
TIMELINE_ONLY_TYPES: dict[str, str] = {
    "payment.failed": "Payment failed",
    "refund.created": "Refund requested",
    "refund.failed": "Refund failed",
    "invoice.created": "Invoice created",
    "invoice.sent": "Invoice sent",
    "invoice.reminder_sent": "Invoice reminder sent",
    "invoice.overdue": "Invoice overdue",
    "invoice.paid": "Invoice paid",
    "invoice.voided": "Invoice voided",
    "invoice.marked_uncollectible": "Invoice marked uncollectible",
    "event.rejected": "Event rejected",
}
TIMELINE_TYPES: dict[str, str] = {**ORDER_EVENT_TYPES, **TIMELINE_ONLY_TYPES}
INVOICE_EVENT_TYPES = frozenset(t for t in TIMELINE_ONLY_TYPES if t.startswith("invoice."))
