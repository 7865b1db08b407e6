"""``partial-refund``: the camping order paid in full, then one of its two mugs refunded by
the merchant through the refunds service, which returns the money on the sandbox processor."""

from __future__ import annotations

import uuid
from typing import Any

from flint_cli.triggers.context import Scenario, TriggerContext
from flint_cli.triggers.order_paid import create_and_pay
from flint_sdk import ApiError

REFUNDED_SKU = "MUG-BLUE"


def _order_unknown_yet(error: ApiError) -> bool:
    # 404: refunds has not consumed order.created yet; 409 not_paid: nor payment.captured.
    return error.code in ("not_found", "not_paid")


def partial_refund(trigger: TriggerContext) -> dict[str, Any]:
    paid, payment = create_and_pay(trigger)
    mug = next(line for line in paid.line_items if line.get("sku") == REFUNDED_SKU)
    key = str(uuid.uuid4())
    refund = trigger.once_known(
        "the refunds service knows the paid order",
        lambda: trigger.merchant.refunds.create(paid.id, lines=[{"line_item_id": mug["id"], "quantity": 1}],
                                                reason="returned_items", note="One mug came back unopened.",
                                                idempotency_key=key),
        _order_unknown_yet)
    trigger.say(f"Refund {refund.id} asked for {refund.amount.to_decimal()} {refund.amount.currency} "
                f"(one {mug.get('title', 'mug')}, returned_items).")
    refunded = trigger.wait_for_order(paid.id, "partially refunded",
                                      lambda order: order.payment_status == "partially_refunded")
    trigger.say(f"Order {refunded.id} is partially refunded: the app gets order.updated (refund asked), "
                "order.partially_refunded, refund.created and refund.succeeded.")
    return {"scenario": SCENARIO.name, "order": refunded, "payment": payment,
            "refund": trigger.merchant.refunds.get(refund.id)}


SCENARIO = Scenario("partial-refund", "an order paid, then one item of it refunded (order.partially_refunded, "
                    "refund.created, refund.succeeded)", partial_refund)
