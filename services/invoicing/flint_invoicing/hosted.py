"""The hosted pay pages a buyer opens from an invoice email: ``/pay/{token}``.

HTML, not the API's problem+json: a link that does not work (made up, expired, rotated out,
of a voided invoice) is the same plain 404 page, naming nothing; a paid invoice shows "This
invoice is paid" without a form; an open one shows the summary and the card form. Posting the
form checks its CSRF token (``pay_forms``), reads the card (``card_form``) and pays through
``paying.Payer``: the receipt, or the same page saying what went wrong.

They are a router of their own with its own exception handlers, mounted at ``/pay``, so every
answer under it (an unknown path, a wrong method) is a page, and they stay out of the API's
OpenAPI document. Not a whole Starlette app: that one's outermost layer answers anything
unhandled with a plain-text 500 before the service's error boundary sees it, so a page
whose database stopped answering said 500 instead of the chassis' 503 with ``Retry-After``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

from flint_chassis.logs import current_correlation_id
from flint_invoicing import repository
from flint_invoicing.card_form import CardForm, read_card_form
from flint_invoicing.domain import Invoice, PayLinkExpired, pay_token_hash
from flint_invoicing.handlers import Tools
from flint_invoicing.pages import (
    AlreadyPaidPage,
    PayError,
    PayPage,
    ReceiptPage,
    not_found_page,
    pay_error,
    render_already_paid_page,
    render_pay_page,
    render_receipt_page,
)
from flint_invoicing.pay_forms import COOKIE, PayForms
from flint_invoicing.paying import AlreadyPaid, Gone, NotPaid, Paid, Payer
from flint_invoicing.presenting import document_of, pdf_of

# What the browser may do with these pages: show them, post the form to this site, nothing else.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
# The status a page answers with when a payment did not go through, by the reason's code.
_STATUS = {
    "card_declined": 402, "insufficient_funds": 402, "form_expired": 403, "order_changed": 409,
    "attempt_unresolved": 409, "processor_unavailable": 503, "processing_error": 503, "payment_in_progress": 503,
}  # fmt: skip
_INVALID_FORM = 422


class HostedPages:
    """The pages and what they need; ``start`` hands them the running service's parts."""

    def __init__(self, *, public_url: str) -> None:
        self.public_url = public_url
        self._base_path = urlsplit(public_url).path.rstrip("/")
        self.tools: Tools | None = None
        self.forms: PayForms | None = None
        self.pool: asyncpg.Pool | None = None
        self.payer: Payer | None = None
        self.test_mode = False

    def start(self, tools: Tools, forms: PayForms, pool: asyncpg.Pool, payer: Payer, *, test_mode: bool) -> None:
        self.tools, self.forms, self.pool, self.payer, self.test_mode = tools, forms, pool, payer, test_mode

    def app(self) -> ASGIApp:
        """The pages, to mount at ``/pay``. What they do not handle (the database gone, a bug)
        goes on to the service's error boundary: 503 with ``Retry-After``, or 500."""
        async def not_found(request: Request, error: Exception) -> Response:
            return page(not_found_page(), 404)

        async def other(request: Request, error: HTTPException) -> Response:
            return Response(error.detail, status_code=error.status_code, headers={**_HEADERS, **(error.headers or {})})

        router = Router(routes=[Route("/{token}", self.pay_page, methods=["GET", "POST"]),
                                Route("/{token}/invoice.pdf", self.invoice_pdf, methods=["GET"])])
        return ExceptionMiddleware(router, handlers={404: not_found, 405: other, 400: other, 503: other})

    # --- routes ---------------------------------------------------------------------------------

    async def pay_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        invoice = await self._invoice_of(token)
        if invoice is None:
            return page(not_found_page(), 404)
        if invoice.status == "paid":
            return await self._already_paid(invoice, token)
        if request.method == "POST":
            return await self._pay(request, invoice, token)
        return await self._form(request, invoice, token)

    async def invoice_pdf(self, request: Request) -> Response:
        token = request.path_params["token"]
        invoice = await self._invoice_of(token)
        if invoice is None:
            return page(not_found_page(), 404)
        document = await document_of(self._db, invoice, pay_url=self._link(token))
        headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{invoice.display_number}.pdf"'}
        return Response(await pdf_of(document, invoice), media_type="application/pdf", headers=headers)

    # --- pages ----------------------------------------------------------------------------------

    async def _form(self, request: Request, invoice: Invoice, token: str, *, error: PayError | None = None,
                    name: str = "", status: int = 200) -> Response:
        assert self.forms is not None
        nonce = self.forms.nonce(request.cookies.get(COOKIE))
        view = PayPage(
            doc=await document_of(self._db, invoice, pay_url=self._link(token)), pay_action=self._path(token),
            pdf_url=f"{self._path(token)}/invoice.pdf", csrf_token=self.forms.token(nonce, invoice.id), error=error,
            cardholder_name=name, test_mode=self.test_mode,
        )  # fmt: skip
        response = page(render_pay_page(view), status)
        self.forms.set_cookie(response, nonce)
        return response

    async def _already_paid(self, invoice: Invoice, token: str) -> Response:
        view = AlreadyPaidPage(doc=await document_of(self._db, invoice), pdf_url=f"{self._path(token)}/invoice.pdf")
        return page(render_already_paid_page(view))

    async def _pay(self, request: Request, invoice: Invoice, token: str) -> Response:
        assert self.forms is not None and self.payer is not None
        fields = await _form_fields(request)
        name = fields.get("cardholder_name", "")[:200]
        if not self.forms.valid(request.cookies.get(COOKIE), invoice.id, fields.get("csrf_token")):
            return await self._form(request, invoice, token, error=pay_error("form_expired"), name=name,
                                    status=_STATUS["form_expired"])
        card = read_card_form(fields)
        if not isinstance(card, CardForm):
            return await self._form(request, invoice, token, error=card, name=name, status=_INVALID_FORM)
        outcome = await self.payer.pay(invoice, card.card, correlation_id=current_correlation_id())
        if isinstance(outcome, Paid):
            view = ReceiptPage(doc=await document_of(self._db, outcome.invoice), card=outcome.attempt.card or "Card",
                               pdf_url=f"{self._path(token)}/invoice.pdf", reference=outcome.attempt.processor_reference)
            return page(render_receipt_page(view))
        if isinstance(outcome, AlreadyPaid):
            return await self._already_paid(outcome.invoice, token)
        if isinstance(outcome, Gone):
            return page(not_found_page(), 404)
        assert isinstance(outcome, NotPaid)
        return await self._form(request, outcome.invoice, token, error=pay_error(outcome.code), name=card.cardholder_name,
                                status=_STATUS.get(outcome.code, _INVALID_FORM))

    # --- lookups ----------------------------------------------------------------------------------

    async def _invoice_of(self, token: str) -> Invoice | None:
        """The invoice whose working link this is; None for anything else, whatever the reason."""
        token_hash = pay_token_hash(token)  # None for anything not shaped like a token: no query
        if token_hash is None:
            return None
        stored = await repository.invoice_by_link(self._db, token_hash)
        if stored is None or stored.invoice.status == "void":
            return None
        try:
            stored.invoice.check_pay_link(token, clock=self._tools.clock)
        except PayLinkExpired:
            return None
        return stored.invoice

    @property
    def _db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise HTTPException(503, "The payment page is starting; try again in a moment.")
        return self.pool

    @property
    def _tools(self) -> Tools:
        if self.tools is None:
            raise HTTPException(503, "The payment page is starting; try again in a moment.")
        return self.tools

    def _path(self, token: str) -> str:
        return f"{self._base_path}/pay/{token}"

    def _link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/pay/{token}"


def page(html: str, status: int = 200) -> Response:
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=_HEADERS)


async def _form_fields(request: Request) -> dict[str, str]:
    """The posted fields as text; a form that cannot be read is an empty one (the page then
    says what is missing)."""
    try:
        form = await request.form(max_files=0, max_fields=20, max_part_size=16 * 1024)
    except HTTPException:
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}
