"""``order-paid``: an order created with the merchant's token and paid in full through the
sandbox processor, whose ``payment.captured`` the orders service turns into ``order.paid``."""

from __future__ import annotations

from typing import Any

from flint_cli.triggers.context import Scenario, TriggerContext
from flint_cli.triggers.samples import camping_order
from flint_sdk import Order


def create_and_pay(trigger: TriggerContext) -> tuple[Order, dict[str, Any]]:
    """The camping order, paid in full; the order once the orders service shows it paid, and
    the payment (``payment.captured``'s data)."""
    merchant = trigger.session.merchant()
    order = trigger.merchant.orders.create(camping_order())
    total = order.amounts.total
    trigger.say(f"Created order {order.id} (#{order.number}) for {total.to_decimal()} {total.currency}.")
    envelope = trigger.sandbox.capture(order_id=order.id, amount=total, merchant_id=merchant.id)
    payment = envelope["data"]
    trigger.say(f"Captured payment {payment['payment_id']} ({payment['processor_reference']}) and published "
                f"payment.captured.")
    return trigger.wait_for_order(order.id, "paid", lambda current: current.payment_status == "paid"), payment


def order_paid(trigger: TriggerContext) -> dict[str, Any]:
    paid, payment = create_and_pay(trigger)
    trigger.say(f"Order {paid.id} is paid: the app gets order.created and order.paid.")
    return {"scenario": SCENARIO.name, "order": paid, "payment": payment}


SCENARIO = Scenario("order-paid", "an order created and paid in full (order.created, order.paid)", order_paid)
