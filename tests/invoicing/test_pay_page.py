"""The hosted pay page over HTTP on the real service: what a link shows, what paying does (the
processor's ledger, the order's balance, the events on Kafka), and every way it must refuse."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from flint_contracts.topics import INVOICES_EVENTS, PAYMENTS_EVENTS
from tests.invoicing.paying import DECLINED_CARD, GOOD_CARD, buyer, card_form, csrf_of, pay
from tests.invoicing.service import InvoicingService
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

NOTHING_LEAKED = ("Acme", "€", "INV-", "Ada", "Mug")


async def invoice_for(invoicing: InvoicingService, **body) -> tuple[str, dict, dict]:
    """An open invoice whose email went out (so follow-up leaves it alone for days)."""
    merchant = await invoicing.merchant("Acme Outdoor")
    order = await invoicing.order(merchant)
    invoice = await invoicing.create_invoice(merchant, order["id"], **body)
    await invoicing.sink.wait_for(invoice["id"], 1)
    return merchant, order, invoice


async def test_the_page_shows_the_merchant_the_order_and_what_is_due(invoicing: InvoicingService):
    _, order, invoice = await invoice_for(invoicing, memo="Thanks for camping with us")
    page = await invoicing.client.get(invoice["hosted_url"])
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    for shown in ("Acme Outdoor", "€28.80", invoice["display_number"], f"#{order['number']}", "Mug",
                  "Thanks for camping with us", "Test mode"):
        assert shown in page.text
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "flint_pay=" in page.headers["set-cookie"] and "samesite=strict" in page.headers["set-cookie"].lower()


async def test_paying_captures_once_and_the_orders_balance_falls_to_zero(invoicing: InvoicingService):
    # given an invoice for all of an order's 28.80 EUR
    merchant, order, invoice = await invoice_for(invoicing)
    # when the buyer pays it with the sandbox's good card
    receipt = await pay(invoicing, invoice["hosted_url"])
    # then the page is the receipt, and the processor holds one charge of 28.80 for it
    assert receipt.status_code == 200 and "Payment received" in receipt.text and "Visa •••• 4242" in receipt.text
    [charge] = await invoicing.charges_of(invoice["id"])
    assert (charge["amount"], charge["currency"]) == (2880, "EUR") and charge["reference"] in receipt.text
    # and payment.captured and invoice.paid are on Kafka, keyed by the order
    [captured] = await eventually(lambda: invoicing.events(PAYMENTS_EVENTS, order["id"]), message="payment.captured")
    assert captured["type"] == "payment.captured" and captured["data"]["invoice_id"] == invoice["id"]
    assert captured["data"]["processor_reference"] == charge["reference"]
    paid = await eventually(lambda: [e for e in invoicing.events(INVOICES_EVENTS, order["id"]) if e["type"] == "invoice.paid"],
                            message="invoice.paid")
    assert paid[0]["data"]["payment_id"] == captured["data"]["payment_id"]
    # and the orders service made the order paid: nothing due, order.paid published
    events = await invoicing.orders.order_events(order["id"], 2)
    assert events[1]["type"] == "order.paid"
    current = await invoicing.orders.get_order(merchant, order["id"])
    assert current["amounts"]["balance_due"]["amount"] == 0 and current["payment_status"] == "paid"
    # and the invoice says so; its link now shows it paid, with no form
    assert (await invoicing.get_invoice(merchant, invoice["id"]))["status"] == "paid"
    again = await invoicing.client.get(invoice["hosted_url"])
    assert "This invoice is paid" in again.text and "<form" not in again.text


async def test_a_declined_card_says_so_and_captures_nothing(invoicing: InvoicingService):
    merchant, order, invoice = await invoice_for(invoicing)
    declined = await pay(invoicing, invoice["hosted_url"], DECLINED_CARD)
    assert declined.status_code == 402
    assert "Your card was declined." in declined.text and "Nothing was charged." in declined.text
    assert 'value="Ada Lovelace"' in declined.text  # the name typed is kept, the card number never
    assert re.search(r'<input id="card_number"[^>]*value=', declined.text) is None
    assert await invoicing.charges_of(invoice["id"]) == []
    assert (await invoicing.get_invoice(merchant, invoice["id"]))["status"] == "open"
    # and another card then pays it
    assert "Payment received" in (await pay(invoicing, invoice["hosted_url"])).text
    assert len(await invoicing.charges_of(invoice["id"])) == 1


@pytest.mark.parametrize(("fields", "says"), [
    ({"card_number": "4242 4242 4242 4241"}, "Your card number is incorrect."),
    ({"card_number": ""}, "Your card number is incorrect."),
    ({"card_expiry": "13 / 30"}, "The expiry date is invalid."),
    ({"card_expiry": "01 / 20"}, "Your card has expired."),
    ({"card_cvc": "1"}, "The security code is invalid."),
    ({"cardholder_name": "  "}, "Enter the name on your card."),
    ({"cardholder_name": "Ada\x00"}, "Enter the name on your card."),
])  # fmt: skip
async def test_a_card_that_cannot_be_used_is_marked_and_nothing_is_stored(invoicing, fields, says):
    merchant, _, invoice = await invoice_for(invoicing)
    before = await invoicing.snapshot(merchant)
    async with buyer(invoicing) as client:
        page = await client.get(invoice["hosted_url"])
        answer = await client.post(invoice["hosted_url"], data=card_form(csrf_of(page), **fields))
    assert answer.status_code in (402, 422) and says in answer.text and 'aria-invalid="true"' in answer.text
    assert await invoicing.charges_of(invoice["id"]) == []
    assert await invoicing.snapshot(merchant) == before


async def test_a_form_without_its_token_or_cookie_is_refused_and_charges_nothing(invoicing: InvoicingService):
    merchant, _, invoice = await invoice_for(invoicing)
    async with buyer(invoicing) as client:
        page = await client.get(invoice["hosted_url"])
        form = card_form(csrf_of(page))
        forged = await client.post(invoice["hosted_url"], data={**form, "csrf_token": form["csrf_token"][:-3] + "abc"})
        missing = await client.post(invoice["hosted_url"], data={k: v for k, v in form.items() if k != "csrf_token"})
    async with buyer(invoicing) as other_browser:  # a token, but another browser's cookie: a cross-site post
        cross_site = await other_browser.post(invoice["hosted_url"], data=form)
    for answer in (forged, missing, cross_site):
        assert answer.status_code == 403 and "This page was open for too long." in answer.text
    assert await invoicing.charges_of(invoice["id"]) == []


async def test_a_form_left_open_too_long_is_refused(fresh_invoicing):
    async with fresh_invoicing() as invoicing:
        _, _, invoice = await invoice_for(invoicing)
        async with buyer(invoicing) as client:
            page = await client.get(invoice["hosted_url"])
            invoicing.clock.offset = timedelta(seconds=invoicing.settings.pay_form_max_age + 60)
            late = await client.post(invoice["hosted_url"], data=card_form(csrf_of(page)))
            # and the page it answers with carries a fresh form that works
            paid = await client.post(invoice["hosted_url"], data=card_form(csrf_of(late)))
        assert late.status_code == 403 and "This page was open for too long." in late.text
        assert "Payment received" in paid.text and len(await invoicing.charges_of(invoice["id"])) == 1


async def test_a_double_submit_captures_once(invoicing: InvoicingService):
    # given one open page
    merchant, order, invoice = await invoice_for(invoicing)
    async with buyer(invoicing) as client:
        form = card_form(csrf_of(await client.get(invoice["hosted_url"])))
        # when the buyer submits the form three times at once
        answers = await asyncio.gather(*(client.post(invoice["hosted_url"], data=form) for _ in range(3)))
    # then one answer is the receipt, the others say the invoice is paid, and one charge exists
    texts = sorted("receipt" if "Payment received" in a.text else "paid" if "This invoice is paid" in a.text else a.text
                   for a in answers)
    assert texts == ["paid", "paid", "receipt"]
    assert len(await invoicing.charges_of(invoice["id"])) == 1
    assert await invoicing.pool.fetchval(
        "SELECT count(*) FROM payment_attempts WHERE invoice_id = $1", invoice["id"]) == 1


async def test_a_lost_answer_from_the_processor_is_not_a_second_charge(invoicing: InvoicingService):
    # given the processor charges the card, but its answer is lost on the way back
    merchant, order, invoice = await invoice_for(invoicing)
    await invoicing.sandbox.faults.inject("capture", "response_lost", times=1)
    async with buyer(invoicing) as client:
        form = card_form(csrf_of(await client.get(invoice["hosted_url"])))
        lost = await client.post(invoice["hosted_url"], data=form)
        # when the buyer tries again with the same card
        retried = await client.post(invoice["hosted_url"], data=form)
    # then the first try said it could not be confirmed, the second shows the receipt of that one charge
    assert lost.status_code == 503 and "We could not reach the card network." in lost.text
    assert retried.status_code == 200 and "Payment received" in retried.text
    [charge] = await invoicing.charges_of(invoice["id"])
    assert charge["reference"] in retried.text


async def test_made_up_expired_and_voided_links_are_the_same_plain_404(fresh_invoicing):
    async with fresh_invoicing() as invoicing:
        merchant, _, invoice = await invoice_for(invoicing)
        voided_merchant, _, voided = await invoice_for(invoicing)
        await invoicing.call("POST", f"/v1/invoices/{voided['id']}/void", invoicing.token(voided_merchant))
        token = invoice["hosted_url"].rsplit("/", 1)[1]
        made_up = f"{invoicing.url}/pay/{token[:-4]}AAAA"
        answers = {
            "made up": await invoicing.client.get(made_up),
            "not a token": await invoicing.client.get(f"{invoicing.url}/pay/not-a-token"),
            "control character": await invoicing.client.get(f"{invoicing.url}/pay/%00{token[1:]}"),
            "deeper": await invoicing.client.get(f"{invoicing.url}/pay/{token}/elsewhere"),
            "voided": await invoicing.client.get(voided["hosted_url"]),
            "posted to": await invoicing.client.post(made_up, data={"card_number": GOOD_CARD}),
            "its pdf": await invoicing.client.get(f"{made_up}/invoice.pdf"),
        }
        # and after its expiry (120 days past the due date) the real link is the same page
        invoicing.clock.offset = timedelta(days=140)
        answers["expired"] = await invoicing.client.get(invoice["hosted_url"])
    for name, answer in answers.items():
        assert answer.status_code == 404, name
        assert "This link does not work" in answer.text, name
        assert not any(word in answer.text for word in NOTHING_LEAKED), name
        assert answer.text == answers["made up"].text, name


async def test_the_pages_pdf_is_the_invoice_with_its_pay_link(invoicing: InvoicingService):
    _, _, invoice = await invoice_for(invoicing)
    pdf = await invoicing.client.get(f"{invoice['hosted_url']}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'attachment; filename="{invoice["display_number"]}.pdf"'
    assert invoice["hosted_url"].encode() in pdf.content  # the link, clickable in the document


async def test_an_order_paid_another_way_meanwhile_is_not_charged_again(invoicing: InvoicingService):
    merchant, order, invoice = await invoice_for(invoicing)
    from tests.orders.events import payment_captured

    await invoicing.orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    await invoicing.projected(order["id"], 2)
    refused = await pay(invoicing, invoice["hosted_url"])
    assert refused.status_code == 409 and "This invoice cannot be paid any more." in refused.text
    assert await invoicing.charges_of(invoice["id"]) == []
