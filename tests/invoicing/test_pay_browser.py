"""Done when (issue 11): a buyer in Debian's headless Chromium, JavaScript off, on the running
service: pays with 4242 4242 4242 4242 and sees the receipt, and the order's balance is 0 with
``order.paid`` on Kafka; a declined card shows its error and captures nothing; two tabs paying
at once capture once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.invoicing.live_pages import chromium, fill_card, photograph
from tests.invoicing.service import InvoicingService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def invoice_for(invoicing: InvoicingService) -> tuple[str, dict, dict]:
    merchant = await invoicing.merchant("Acme Outdoor")
    order = await invoicing.order(merchant)
    return merchant, order, await invoicing.create_invoice(merchant, order["id"])


async def test_a_buyer_pays_with_a_good_card_sees_the_receipt_and_the_order_is_paid(invoicing: InvoicingService):
    # given an invoice for an order's whole 28.80 EUR
    merchant, order, invoice = await invoice_for(invoicing)
    async with chromium() as browser:
        page = await browser.new_page(java_script_enabled=False)
        # when the buyer opens the link, types the card and pays
        await page.goto(invoice["hosted_url"])
        assert await page.locator("#pay").inner_text() == "Pay €28.80"
        await fill_card(page)
        await page.click("#pay")
        # then the receipt shows what was paid, with which card
        await page.wait_for_selector("text=Payment received")
        receipt = await page.inner_text("body")
    assert "€28.80" in receipt and "Visa •••• 4242" in receipt and invoice["display_number"] in receipt
    # and the order owes nothing, and order.paid is on Kafka
    events = await invoicing.orders.order_events(order["id"], 2)
    assert [e["type"] for e in events] == ["order.created", "order.paid"]
    assert events[1]["data"]["order"]["amounts"]["balance_due"] == {"amount": 0, "currency": "EUR"}
    current = await invoicing.orders.get_order(merchant, order["id"])
    assert current["amounts"]["balance_due"]["amount"] == 0 and current["payment_status"] == "paid"
    assert len(await invoicing.charges_of(invoice["id"])) == 1


async def test_a_declined_card_shows_why_and_captures_nothing(invoicing: InvoicingService):
    merchant, order, invoice = await invoice_for(invoicing)
    async with chromium() as browser:
        page = await browser.new_page(java_script_enabled=False)
        await page.goto(invoice["hosted_url"])
        await fill_card(page, "4000 0000 0000 0002")
        await page.click("#pay")
        alert = await page.wait_for_selector("#pay-error")
        said = await alert.inner_text()
        marked = await page.get_attribute("#card_number", "aria-invalid")
        typed = await page.input_value("#card_number")
    assert "Your card was declined." in said and "Nothing was charged." in said
    assert marked == "true" and typed == ""  # the number field is marked, and empty again
    assert await invoicing.charges_of(invoice["id"]) == []
    assert (await invoicing.orders.get_order(merchant, order["id"]))["amounts"]["balance_due"]["amount"] == 2880


async def test_two_tabs_paying_at_once_capture_once(invoicing: InvoicingService):
    # given the buyer opened the invoice in two tabs and filled in both
    merchant, order, invoice = await invoice_for(invoicing)
    async with chromium() as browser:
        context = await browser.new_context(java_script_enabled=False)
        tabs = [await context.new_page(), await context.new_page()]
        for tab in tabs:
            await tab.goto(invoice["hosted_url"])
            await fill_card(tab)
        # when both are paid at the same moment
        await asyncio.gather(*(tab.click("#pay") for tab in tabs))
        for tab in tabs:
            await tab.wait_for_selector("text=/Payment received|This invoice is paid/")
        shown = sorted([("receipt" if "Payment received" in await tab.inner_text("body") else "paid") for tab in tabs])
    # then one tab shows the receipt, the other that the invoice is paid, and one charge exists
    assert shown == ["paid", "receipt"]
    assert len(await invoicing.charges_of(invoice["id"])) == 1
    events = await invoicing.orders.order_events(order["id"], 2)
    assert [e["type"] for e in events] == ["order.created", "order.paid"]
    assert events[1]["data"]["order"]["amounts"]["captured"] == {"amount": 2880, "currency": "EUR"}


async def test_the_docs_screenshots_come_from_the_running_service(invoicing: InvoicingService, tmp_path: Path):
    written = await photograph(invoicing, tmp_path)
    assert [p.name for p in written] == ["invoice-pay-page.png", "invoice-pay-page-phone.png", "invoice-receipt.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 10_000 for p in written)
