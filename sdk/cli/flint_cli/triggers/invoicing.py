"""What the invoice scenarios share: an unpaid order and an invoice for all it owes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flint_cli.triggers.context import TriggerContext
from flint_cli.triggers.samples import camping_order
from flint_sdk import ApiError, Invoice, Order


def _order_unknown_yet(error: ApiError) -> bool:
    # invoicing learns of an order from order.created, a moment after orders answered
    return any(field.code == "unknown_order" for field in error.errors)


def invoiced_order(trigger: TriggerContext, *, due_in_days: int, reminders: list[int],
                   memo: str) -> tuple[Order, Invoice]:
    """The camping order, unpaid, and an open invoice for its total, due in ``due_in_days``."""
    order = trigger.merchant.orders.create(camping_order())
    total = order.amounts.total
    trigger.say(f"Created order {order.id} (#{order.number}) for {total.to_decimal()} {total.currency}, unpaid.")
    due = (datetime.now(UTC) + timedelta(days=due_in_days)).date()
    key = str(uuid.uuid4())
    invoice = trigger.once_known(
        "the invoicing service knows the order",
        lambda: trigger.merchant.invoices.create(order.id, due_date=due, reminder_policy=reminders, memo=memo,
                                                 idempotency_key=key),
        _order_unknown_yet)
    trigger.say(f"Created invoice {invoice.display_number} ({invoice.id}) for {invoice.amount_due.to_decimal()} "
                f"{invoice.amount_due.currency}, due {invoice.due_date}; pay link {invoice.hosted_url}")
    return order, invoice
