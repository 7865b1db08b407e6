"""``invoice-paid``: an unpaid order, an invoice for it, and the buyer paying on the invoice's
hosted page with the sandbox's test card (the form posted over HTTP, cookie and CSRF token as a
browser sends them); the invoicing service captures and the order becomes paid."""

from __future__ import annotations

from typing import Any

from flint_cli.triggers.context import Scenario, TriggerContext
from flint_cli.triggers.invoicing import invoiced_order
from flint_cli.triggers.pay_page import TEST_CARD, pay_hosted_invoice


def invoice_paid(trigger: TriggerContext) -> dict[str, Any]:
    order, invoice = invoiced_order(trigger, due_in_days=14, reminders=[-3, 0, 3],
                                    memo="Thank you for your order.")
    pay_hosted_invoice(invoice.hosted_url or "", card=TEST_CARD)
    trigger.say(f"Paid {invoice.display_number} on its hosted page with the test card {TEST_CARD}.")
    paid = trigger.wait_for_order(order.id, "paid", lambda current: current.payment_status == "paid")
    trigger.say(f"Order {paid.id} is paid: the app gets order.created, invoice.created, invoice.sent, "
                "invoice.paid and order.paid.")
    return {"scenario": SCENARIO.name, "order": paid, "invoice": trigger.merchant.invoices.get(invoice.id)}


SCENARIO = Scenario("invoice-paid", "an invoice paid by card on its hosted page (invoice.created, invoice.paid, "
                    "order.paid)", invoice_paid)
