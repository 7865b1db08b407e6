"""The invoices API on the real broker and database, beside the real orders service: create,
read, list, send, remind, void, write off, the PDF, and every refusal of issue 11."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from flint_contracts.ids import new_id
from flint_contracts.topics import INVOICES_EVENTS, PAYMENTS_EVENTS
from tests.invoicing.service import InvoicingService
from tests.orders.events import payment_captured
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


async def test_an_invoice_asks_for_the_balance_by_default_with_a_number_and_a_pay_link(invoicing: InvoicingService):
    # given an order of 28.80 EUR that nothing has paid
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    # when the merchant invoices it
    response = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                    json={"order_id": order["id"], "due_date": _in_days(invoicing, 14)})
    # then the invoice is open, for the whole balance, numbered INV-0001, with a working link
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert response.headers["location"] == f"/v1/invoices/{invoice['id']}"
    assert (invoice["status"], invoice["number"], invoice["display_number"]) == ("open", 1, "INV-0001")
    assert invoice["amount_due"] == eur(2880) and invoice["amount_remaining"] == eur(2880)
    assert invoice["reminder_policy"] == [-3, 0, 3, 7] and invoice["order_number"] == order["number"]
    assert invoice["hosted_url"].startswith(f"{invoicing.url}/pay/")
    assert (await invoicing.client.get(invoice["hosted_url"])).status_code == 200
    # and invoice.created is on Kafka, keyed by the order, carrying that link
    [created] = await eventually(lambda: [e for e in invoicing.events(INVOICES_EVENTS, order["id"])
                                          if e["type"] == "invoice.created"], message="invoice.created")
    assert created["data"]["hosted_url"] == invoice["hosted_url"] and created["data"]["number"] == 1


async def test_numbers_are_per_merchant_and_gap_free_even_when_a_create_is_refused(invoicing: InvoicingService):
    # given a merchant with two orders, and another merchant
    merchant, other = await invoicing.merchant(), await invoicing.merchant("Other Shop")
    first, second = await invoicing.order(merchant), await invoicing.order(merchant)
    other_order = await invoicing.order(other)
    # when it invoices the first, is refused once (an amount above the balance), then invoices the second
    one = await invoicing.create_invoice(merchant, first["id"])
    refused = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                   json={"order_id": second["id"], "due_date": _in_days(invoicing, 3),
                                         "amount": eur(999_999)})
    two = await invoicing.create_invoice(merchant, second["id"])
    # then its invoices are 1 and 2, and the other merchant starts at 1 too
    assert refused.status_code == 422
    assert (one["number"], two["number"]) == (1, 2)
    assert (await invoicing.create_invoice(other, other_order["id"]))["number"] == 1


async def test_a_second_invoice_may_ask_only_for_what_the_first_leaves(invoicing: InvoicingService):
    # given an order of 28.80 with an open invoice for 20.00
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    await invoicing.create_invoice(merchant, order["id"], amount=eur(2000))
    # when the merchant asks for 10.00 more, then for the rest without an amount
    too_much = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                    json={"order_id": order["id"], "due_date": _in_days(invoicing, 7), "amount": eur(1000)})
    rest = await invoicing.create_invoice(merchant, order["id"])
    # then 10.00 is refused (only 8.80 is left) and the rest is 8.80
    assert too_much.status_code == 422 and too_much.json()["code"] == "amount_exceeds_balance"
    assert too_much.json()["errors"][0]["field"] == "amount" and "8.80" in too_much.json()["detail"]
    assert rest["amount_due"] == eur(880)


async def test_an_order_with_nothing_due_gets_no_invoice_and_nothing_is_stored(invoicing: InvoicingService):
    # given an order checkout paid in full
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    await invoicing.orders.publish(PAYMENTS_EVENTS, payment_captured(order, 2880))
    await invoicing.projected(order["id"], 2)
    before = await invoicing.snapshot(merchant)
    # when the merchant invoices it
    response = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                    json={"order_id": order["id"], "due_date": _in_days(invoicing, 7)})
    # then it is a 409 nothing_due, and nothing changed
    assert response.status_code == 409 and response.json()["code"] == "nothing_due"
    assert response.headers["content-type"] == "application/problem+json"
    assert await invoicing.snapshot(merchant) == before


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"amount": eur(2881)}, 422, "amount_exceeds_balance", "amount"),
    ({"amount": {"amount": 1000, "currency": "USD"}}, 422, "validation_failed", "amount"),
    ({"amount": eur(0)}, 422, "validation_failed", "amount"),
    ({"due_date": "yesterday"}, 422, "validation_failed", "due_date"),
    ({"due_date": 1893456000}, 422, "validation_failed", "due_date"),
    ({"reminder_policy": [3, 3]}, 422, "validation_failed", "reminder_policy"),
    ({"reminder_policy": [91]}, 422, "validation_failed", "reminder_policy.0"),
    ({"memo": ""}, 422, "validation_failed", "memo"),
    ({"memmo": "typo"}, 422, "validation_failed", "memmo"),
    ({"order_id": "ord_123"}, 422, "validation_failed", "order_id"),
])  # fmt: skip
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(invoicing, body, status, code, field):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    before = await invoicing.snapshot(merchant)
    request = {"order_id": order["id"], "due_date": _in_days(invoicing, 7), **body}
    response = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant), json=request)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code and field in [e["field"] for e in problem["errors"]], problem
    assert await invoicing.snapshot(merchant) == before


async def test_a_due_date_in_the_past_is_refused_as_such(invoicing: InvoicingService):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    before = await invoicing.snapshot(merchant)
    response = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                    json={"order_id": order["id"], "due_date": _in_days(invoicing, -1)})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "due_date", "code": "due_date_in_past",
                                          "message": response.json()["errors"][0]["message"]}]
    assert "before today" in response.json()["detail"]
    assert await invoicing.snapshot(merchant) == before


async def test_another_merchants_order_or_invoice_is_as_absent_as_a_missing_one(invoicing: InvoicingService):
    # given a merchant's order and invoice
    owner, stranger = await invoicing.merchant(), await invoicing.merchant("Stranger")
    order = await invoicing.order(owner)
    invoice = await invoicing.create_invoice(owner, order["id"])
    # when another merchant invoices that order, or reads, voids or downloads that invoice
    create = await invoicing.call("POST", "/v1/invoices", invoicing.token(stranger),
                                  json={"order_id": order["id"], "due_date": _in_days(invoicing, 7)})
    answers = [await invoicing.call(method, path, invoicing.token(stranger)) for method, path in (
        ("GET", f"/v1/invoices/{invoice['id']}"), ("POST", f"/v1/invoices/{invoice['id']}/void"),
        ("GET", f"/v1/invoices/{invoice['id']}.pdf"), ("GET", f"/v1/invoices/{new_id('inv')}"))]
    # then the order is unknown to it and every invoice answer is the same 404
    assert create.status_code == 422 and create.json()["errors"][0]["code"] == "unknown_order"
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert {a.json()["code"] for a in answers} == {"not_found"}
    assert (await invoicing.get_invoice(owner, invoice["id"]))["status"] == "open"


async def test_scopes_are_checked(invoicing: InvoicingService):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    reader = invoicing.token(merchant, "invoices:read")
    create = await invoicing.call("POST", "/v1/invoices", reader, json={"order_id": order["id"],
                                                                        "due_date": _in_days(invoicing, 7)})
    orders_only = await invoicing.call("GET", "/v1/invoices", invoicing.token(merchant, "orders:read"))
    no_token = await invoicing.call("GET", "/v1/invoices", None)
    assert (create.status_code, create.json()["code"]) == (403, "insufficient_scope")
    assert (orders_only.status_code, no_token.status_code) == (403, 401)


async def test_a_retried_create_with_its_idempotency_key_makes_one_invoice(invoicing: InvoicingService):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    body = {"order_id": order["id"], "due_date": _in_days(invoicing, 7), "amount": eur(1000)}
    headers = {"Idempotency-Key": new_id("evt")}
    first, again = await asyncio.gather(
        *(invoicing.call("POST", "/v1/invoices", invoicing.token(merchant), json=body, headers=headers)
          for _ in range(2)))
    other_body = await invoicing.call("POST", "/v1/invoices", invoicing.token(merchant),
                                      json={**body, "amount": eur(500)}, headers=headers)
    assert {first.status_code, again.status_code} == {201}
    assert first.json() == again.json() and first.json()["hosted_url"]
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    assert await invoicing.pool.fetchval("SELECT count(*) FROM invoices WHERE order_id = $1", order["id"]) == 1
    # the stored answer holds a working link: it is kept encrypted
    stored = await invoicing.pool.fetchval("SELECT body FROM flint_idempotency_keys WHERE key = $1",
                                           headers["Idempotency-Key"])
    assert first.json()["hosted_url"].encode() not in bytes(stored)


async def test_lists_by_order_and_status_walk_every_invoice_once(invoicing: InvoicingService):
    # given a merchant with three invoices on one order and one on another, one of them voided
    merchant = await invoicing.merchant()
    order, other = await invoicing.order(merchant), await invoicing.order(merchant)
    made = [await invoicing.create_invoice(merchant, order["id"], amount=eur(100)) for _ in range(3)]
    elsewhere = await invoicing.create_invoice(merchant, other["id"])
    voided = await invoicing.call("POST", f"/v1/invoices/{made[0]['id']}/void", invoicing.token(merchant))
    assert voided.status_code == 200
    # when it walks the order's invoices one per page
    seen, cursor = [], None
    while True:
        params = {"order_id": order["id"], "limit": 1, **({"starting_after": cursor} if cursor else {})}
        page = (await invoicing.call("GET", "/v1/invoices", invoicing.token(merchant), params=params)).json()
        seen += [i["id"] for i in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    # then it sees each once, newest first; the status filter narrows it; a forged cursor is refused
    assert seen == [i["id"] for i in reversed(made)]
    open_ones = (await invoicing.call("GET", "/v1/invoices", invoicing.token(merchant),
                                      params={"status": "open"})).json()["data"]
    assert {i["id"] for i in open_ones} == {made[1]["id"], made[2]["id"], elsewhere["id"]}
    forged = await invoicing.call("GET", "/v1/invoices", invoicing.token(merchant),
                                  params={"starting_after": cursor[:-2] + "xx"})
    assert forged.status_code == 422 and forged.json()["code"] == "invalid_cursor"


async def test_void_a_paid_invoice_is_refused_and_changes_nothing(invoicing: InvoicingService):
    # given an invoice the buyer paid
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    invoice = await invoicing.create_invoice(merchant, order["id"])
    from tests.invoicing.paying import pay

    assert (await pay(invoicing, invoice["hosted_url"])).status_code == 200
    before = await invoicing.snapshot(merchant)
    # when the merchant voids it, or writes it off
    voided = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/void", invoicing.token(merchant))
    written_off = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/mark-uncollectible",
                                       invoicing.token(merchant))
    # then both are 409 invoice_paid and nothing changed
    assert (voided.status_code, voided.json()["code"]) == (409, "invoice_paid")
    assert (written_off.status_code, written_off.json()["code"]) == (409, "invoice_paid")
    assert await invoicing.snapshot(merchant) == before


async def test_send_remind_void_each_land_on_the_orders_timeline(invoicing: InvoicingService):
    # given an invoice
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    invoice = await invoicing.create_invoice(merchant, order["id"], reminder_policy=[])
    token = invoicing.token(merchant)
    # when it is reminded about before it was sent, then sent (by follow-up) and reminded about by hand
    early = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/remind", token)
    await invoicing.sink.wait_for(invoice["id"], 1)
    reminded = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/remind", token)
    # then the early one is refused, the later one mails a reminder with a fresh link
    assert (early.status_code, early.json()["code"]) == (409, "invoice_not_sent")
    assert reminded.status_code == 200 and reminded.json()["reminders_sent"] == 1
    assert reminded.json()["hosted_url"] not in (None, invoice["hosted_url"])
    [mail, reminder] = await invoicing.sink.wait_for(invoice["id"], 2)
    assert mail["Subject"].startswith("Invoice INV-") and reminder["Subject"].startswith("Reminder:")
    assert reminded.json()["hosted_url"] in reminder.get_body(("plain",)).get_content()
    # when it is voided
    voided = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/void", token)
    assert voided.status_code == 200 and voided.json()["status"] == "void" and voided.json()["hosted_url"] is None
    # then every link stops working, and the order's timeline holds each step
    for link in (invoice["hosted_url"], reminded.json()["hosted_url"]):
        assert (await invoicing.client.get(link)).status_code == 404
    timeline = await eventually(lambda: _timeline_types(invoicing, merchant, order["id"], "invoice.voided"),
                                message="invoice.voided on the timeline")
    assert timeline[1:] == ["invoice.created", "invoice.sent", "invoice.reminder_sent", "invoice.voided"]


async def test_an_uncollectible_invoice_gets_no_more_mail_but_can_still_be_paid(invoicing: InvoicingService):
    merchant = await invoicing.merchant()
    order = await invoicing.order(merchant)
    invoice = await invoicing.create_invoice(merchant, order["id"])
    await invoicing.sink.wait_for(invoice["id"], 1)
    written_off = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/mark-uncollectible",
                                       invoicing.token(merchant))
    resend = await invoicing.call("POST", f"/v1/invoices/{invoice['id']}/send", invoicing.token(merchant))
    assert written_off.json()["status"] == "uncollectible" and written_off.json()["next_follow_up_at"] is None
    assert (resend.status_code, resend.json()["code"]) == (409, "invoice_uncollectible")
    from tests.invoicing.paying import pay

    assert "Payment received" in (await pay(invoicing, invoice["hosted_url"])).text
    assert (await invoicing.get_invoice(merchant, invoice["id"]))["status"] == "paid"


async def test_the_pdf_is_the_invoice_with_its_number_lines_and_amount_due(invoicing: InvoicingService):
    merchant = await invoicing.merchant("Łódź Outdoor")
    order = await invoicing.order(merchant)
    invoice = await invoicing.create_invoice(merchant, order["id"], memo="Thank you!")
    response = await invoicing.call("GET", f"/v1/invoices/{invoice['id']}.pdf", invoicing.token(merchant, "invoices:read"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("Łódź Outdoor", invoice["display_number"], "Mug", "€28.80", "Thank you!"):
        assert expected in text


async def _timeline_types(invoicing: InvoicingService, merchant: str, order_id: str, last: str) -> list[str] | None:
    response = await invoicing.orders.call("GET", f"/v1/orders/{order_id}/timeline",
                                           invoicing.orders.merchant_token(merchant))
    types = [entry["type"] for entry in response.json()["data"]]
    return types if types and types[-1] == last else None


def _in_days(invoicing: InvoicingService, days: int) -> str:
    return (invoicing.clock.today() + timedelta(days=days)).isoformat()
