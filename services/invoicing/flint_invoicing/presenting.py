"""An invoice as the buyer sees it, with what the pure ``document`` needs looked up: the
merchant's name (from ``merchant.created``), and the PDF drawn off the event loop."""

from __future__ import annotations

import asyncio

import asyncpg

from flint_invoicing import repository
from flint_invoicing.document import InvoiceDocument, Merchant, invoice_document
from flint_invoicing.domain import Invoice
from flint_invoicing.pdf import render_invoice_pdf

UNNAMED_MERCHANT = "Your seller"
"""Shown for a merchant whose ``merchant.created`` this service has not seen (a merchant made
before invoicing kept names): the page still works, and says nothing wrong."""


async def merchant_of(db: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> Merchant:
    return Merchant(await repository.merchant_name(db, merchant_id) or UNNAMED_MERCHANT)


async def document_of(db: asyncpg.Connection | asyncpg.Pool, invoice: Invoice, *,
                      pay_url: str | None = None) -> InvoiceDocument:
    return invoice_document(invoice, await merchant_of(db, invoice.merchant_id), pay_url=pay_url)


async def pdf_of(document: InvoiceDocument, invoice: Invoice) -> bytes:
    """The PDF, drawn in a thread (a few hundred milliseconds of CPU): the same invoice version
    always gives the same bytes."""
    return await asyncio.to_thread(render_invoice_pdf, document, created_at=invoice.updated_at)
