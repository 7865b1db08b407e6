"""What invoicing knows of orders and merchants comes from their events: an invoice bills the
order as its newest event shows it, an older event redelivered changes nothing, and the page
names the merchant as merchant.created did."""

from __future__ import annotations


import pytest

from flint_contracts.envelope import EventEnvelope
from flint_contracts.ids import new_id
from flint_contracts.topics import ORDERS_EVENTS, PAYMENTS_EVENTS
from tests.invoicing.service import InvoicingService
from tests.orders.events import payment_captured

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_an_invoice_after_a_partial_payment_asks_for_the_rest(invoicing: InvoicingService):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    await invoicing.orders.publish(PAYMENTS_EVENTS, payment_captured(order, 1000))
    await invoicing.projected(order["id"], 2)
    invoice = await invoicing.create_invoice(merchant, order["id"])
    assert invoice["amount_due"] == {"amount": 1880, "currency": "EUR"}


async def test_an_older_order_event_delivered_again_changes_nothing(invoicing: InvoicingService):
    # given an order paid in full, which invoicing has seen
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    await invoicing.orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    [created, paid] = await invoicing.orders.order_events(order["id"], 2)
    await invoicing.projected(order["id"], 2)
    # when order.created (version 1, the order unpaid) arrives again under a new id, then another event after it
    stale = EventEnvelope.model_validate({**created, "id": new_id("evt")})
    await invoicing.orders.publish(ORDERS_EVENTS, stale)
    await invoicing.orders.publish(ORDERS_EVENTS, EventEnvelope.model_validate({**paid, "id": new_id("evt")}))
    await _consumed(invoicing, stale.id)
    # then invoicing still knows the order owes nothing
    response = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                    json={"order_id": order["id"], "due_date": invoicing.clock.today().isoformat()})
    assert response.status_code == 409 and response.json()["code"] == "nothing_due"
    assert await invoicing.pool.fetchval("SELECT version FROM orders WHERE id = $1", order["id"]) == 2


async def test_the_page_names_the_merchant_and_a_merchant_not_heard_of_stays_unnamed(invoicing: InvoicingService):
    named = await invoicing.merchant("Zofia's Łódź Bakery")
    unnamed = new_id("mer")  # never announced
    pages = []
    for merchant in (named, unnamed):
        order = await invoicing.order(merchant)
        invoice = await invoicing.create_invoice(merchant, order["id"])
        pages.append((await invoicing.client.get(invoice["hosted_url"])).text)
    assert "Zofia&#39;s Łódź Bakery" in pages[0]
    assert "Your seller" in pages[1] and "None" not in pages[1]


async def _consumed(invoicing: InvoicingService, event_id: str) -> None:
    from tests.support.polling import eventually

    await eventually(lambda: invoicing.pool.fetchval("SELECT 1 FROM flint_inbox WHERE message_id = $1", event_id),
                     message=f"invoicing to consume {event_id}")


