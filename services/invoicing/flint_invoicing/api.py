"""The invoicing HTTP API (``/v1``): create invoices, read and list them, send, remind, void
and write them off, and the invoice as a PDF.

Another merchant's invoice is a 404, never a 403 that would reveal it exists. Errors, edge
checks, rate limits, idempotency and list cursors are the chassis' (``flint_chassis.http``).
The buyer's pages (``/pay/…``) are ``hosted``'s, not part of this API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from flint_chassis.auth import Authenticator, Principal, TokenVerifier
from flint_chassis.http import (
    DEFAULT_LIMIT,
    IdempotencyKey,
    Limit,
    ServiceHttp,
    StartingAfter,
    caller_of,
    json_response,
    service_http,
    split_page,
)
from flint_chassis.http.lists import invalid_cursor
from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.events.actor import Actor
from flint_contracts.fields import example_id
from flint_contracts.ids import id_pattern
from flint_invoicing import handlers, repository
from flint_invoicing.domain import DomainError, Invoice
from flint_invoicing.handlers import Cause, InvoiceDraft, InvoiceNotFound, Tools, Written
from flint_invoicing.presenting import document_of, pdf_of
from flint_invoicing.problems import domain_problem
from flint_invoicing.schemas import CreateInvoice, InvoiceList, InvoiceOut, InvoiceStatusOut, invoice_json

InvoiceId = Annotated[str, Path(description="The invoice id (`inv_…`).", pattern=id_pattern("inv"), max_length=30,
                                examples=[example_id("inv")])]
OrderFilter = Annotated[str | None, Query(description="Only this order's invoices.", pattern=id_pattern("ord"),
                                          max_length=30)]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVOICE = {"model": InvoiceOut, "description": "The invoice."}


@dataclass
class ApiContext:
    """What the routes need, filled in when the runtime has started."""

    runtime: ServiceRuntime
    tools: Tools | None = None
    verifier: TokenVerifier | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self.runtime.pool is None:
            raise Problem(SERVICE_UNAVAILABLE, "the database is not connected yet", headers={"Retry-After": "1"})
        return self.runtime.pool

    @property
    def ready_tools(self) -> Tools:
        if self.tools is None:
            raise Problem(SERVICE_UNAVAILABLE, "the service is starting", headers={"Retry-After": "1"})
        return self.tools

    def hosted_url(self, invoice: Invoice, sealed: bytes | None) -> str | None:
        """The newest pay link, while the invoice's links work."""
        tools = self.ready_tools
        if sealed is None or invoice.status == "void" or tools.clock.now() >= invoice.pay_links_expire_at:
            return None
        return tools.vault.open(invoice.id, sealed)


def not_found(invoice_id: str) -> Problem:
    return Problem(NOT_FOUND, f"no invoice {invoice_id}")


def router(context: ApiContext) -> APIRouter:
    auth = Authenticator(lambda: context.verifier)
    read = auth.require("invoices:read")
    write = auth.require("invoices:write")
    http: Any = Depends(service_http)
    api = APIRouter(prefix="/v1", tags=["invoices"])

    # --- create ----------------------------------------------------------------------------

    @api.post("/invoices", status_code=201, response_model=None, summary="Create an invoice",
              responses={201: _INVOICE,
                         409: {"description": "The order owes nothing not already invoiced (`nothing_due`)."}})
    async def create_invoice(
        request: Request, body: CreateInvoice, principal: Principal = write, idempotency_key: IdempotencyKey = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """Creates an `open` invoice with the merchant's next number and a `hosted_url` where the
        buyer pays. The invoice email goes out by itself a moment later, then reminders per
        `reminder_policy`, and the invoice is flagged overdue after its due date."""
        tools = context.ready_tools
        draft = InvoiceDraft(order_id=body.order_id, due_date=body.due_date, amount=body.amount,
                             reminder_policy=body.reminder_policy, memo=body.memo)

        async def create(conn: asyncpg.Connection) -> Response:
            written = await _domain(handlers.create_invoice(conn, principal.merchant_id, draft, actor=_actor(principal),
                                                            tools=tools, cause=_cause()))
            return json_response(_answer(written, context), 201, {"Location": f"/v1/invoices/{written.invoice.id}"})

        # sealed: the answer holds a working pay link, stored encrypted like every link
        return await edge.idempotency.run(request, caller=_caller(principal), key=idempotency_key, action=create,
                                          sealed=True)

    # --- reads (the PDF first: /invoices/{id}.pdf must not be read as an id) -----------------

    @api.get("/invoices/{invoice_id}.pdf", response_model=None, summary="The invoice as a PDF",
             responses={200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary",
                                                                           "maxLength": 10_000_000}}},
                              "description": "The invoice document."}})
    async def get_invoice_pdf(invoice_id: InvoiceId, principal: Principal = read) -> Response:
        """The invoice as the buyer gets it: number, dates, lines, totals, amount paid and due."""
        stored = await repository.get_invoice(context.pool, principal.merchant_id, invoice_id)
        if stored is None:
            raise not_found(invoice_id)
        invoice = stored.invoice
        document = await document_of(context.pool, invoice, pay_url=context.hosted_url(invoice, stored.latest_link))
        return Response(await pdf_of(document, invoice), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{invoice.display_number}.pdf"'})

    @api.get("/invoices/{invoice_id}", response_model=None, summary="Get an invoice", responses={200: _INVOICE})
    async def get_invoice(invoice_id: InvoiceId, principal: Principal = read) -> Response:
        stored = await repository.get_invoice(context.pool, principal.merchant_id, invoice_id)
        if stored is None:
            raise not_found(invoice_id)
        return json_response(_stored_json(context, stored))

    @api.get("/invoices", response_model=None, summary="List invoices, newest first",
             responses={200: {"model": InvoiceList, "description": "One page of invoices."}})
    async def list_invoices(
        principal: Principal = read,
        order_id: OrderFilter = None,
        status: Annotated[InvoiceStatusOut | None, Query(description="Only invoices in this status.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        starting_after: StartingAfter = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """Every filter narrows the list; pages follow `next_cursor`."""
        filters = repository.InvoiceFilters(merchant_id=principal.merchant_id, order_id=order_id, status=status)
        after = None
        if starting_after is not None:
            after = _position(edge.cursors.decode("invoices", principal.merchant_id, starting_after))
        rows = await repository.list_invoices(context.pool, filters, limit + 1, after)
        page, has_more = split_page(rows, limit)
        cursor = None
        if has_more:
            cursor = edge.cursors.encode("invoices", principal.merchant_id, [_micros(page[-1]["created_at"]), page[-1]["id"]])
        data = [_stored_json(context, repository.stored_of(row)) for row in page]
        return json_response({"object": "list", "data": data, "has_more": has_more, "next_cursor": cursor})

    # --- actions ---------------------------------------------------------------------------

    def action(name: str, summary: str, change: Callable[[Actor, Tools], Callable[[Invoice], Any]], doc: str) -> None:
        async def act(request: Request, invoice_id: InvoiceId, principal: Principal = write,
                      idempotency_key: IdempotencyKey = None, edge: ServiceHttp = http) -> Response:
            tools = context.ready_tools

            async def run(conn: asyncpg.Connection) -> Response:
                written = await _domain(handlers.change_invoice(
                    conn, principal.merchant_id, invoice_id, change(_actor(principal), tools), tools=tools,
                    cause=_cause()), invoice_id)
                return json_response(_answer(written, context))

            return await edge.idempotency.run(request, caller=_caller(principal), key=idempotency_key, action=run,
                                              sealed=True)

        act.__name__ = f"{name.replace('-', '_')}_invoice"
        act.__doc__ = doc
        api.post(f"/invoices/{{invoice_id}}/{name}", response_model=None, summary=summary,
                 responses={200: _INVOICE, 409: {"description": "The invoice's status does not allow it (the code "
                                                                "says which: `invoice_paid`, `invoice_void`, …)."}})(act)

    action("send", "Send the invoice email", handlers.send,
           "Emails the invoice (again) to the buyer with a fresh pay link and the PDF. Open invoices only.")
    action("remind", "Send a reminder", handlers.remind,
           "Emails a reminder with a fresh pay link, now. The invoice must be open and sent.")
    action("void", "Void the invoice", handlers.void,
           "Cancels the invoice: its links stop working and follow-up ends. Not once it is paid.")
    action("mark-uncollectible", "Write the invoice off", handlers.mark_uncollectible,
           "Ends follow-up; the buyer may still pay it (the money it asks for stays held), or it may be voided.")
    return api


# --- helpers ------------------------------------------------------------------------------------------


def _answer(written: Written, context: ApiContext) -> dict[str, Any]:
    """A write's answer: the invoice with the link the write handed out, else its newest one."""
    link = written.link or context.hosted_url(written.invoice, written.newest_link)
    return invoice_json(written.invoice, hosted_url=link, next_follow_up_at=written.follow_up_at)


def _stored_json(context: ApiContext, stored: repository.StoredInvoice) -> dict[str, Any]:
    return invoice_json(stored.invoice, hosted_url=context.hosted_url(stored.invoice, stored.latest_link),
                        next_follow_up_at=stored.next_follow_up_at)


async def _domain(change: Awaitable[Written], invoice_id: str | None = None) -> Written:
    """The handler's result; its refusals as problems (raised inside the transaction, so
    nothing is stored)."""
    try:
        return await change
    except InvoiceNotFound:
        raise not_found(invoice_id or "") from None
    except DomainError as error:
        raise domain_problem(error) from None


def _caller(principal: Principal) -> str:
    return caller_of(principal.merchant_id, principal.subject)


def _actor(principal: Principal) -> Actor:
    return Actor(**principal.actor)


def _cause() -> Cause:
    return Cause(correlation_id=current_correlation_id())


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike a float


def _position(position: list[Any]) -> repository.Cursor:
    if len(position) != 2 or not isinstance(position[0], int) or not isinstance(position[1], str):
        raise invalid_cursor()
    try:
        return repository.Cursor(_EPOCH + timedelta(microseconds=position[0]), position[1])
    except OverflowError:
        raise invalid_cursor() from None
