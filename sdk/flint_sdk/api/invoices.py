"""Invoicing service calls (docs/invoicing.md, "HTTP API").

Only ``create`` gets an ``Idempotency-Key`` by itself. ``send``, ``remind``, ``void`` and
``mark_uncollectible`` send one only when given one, so without it a broken connection is
raised rather than retried (a reminder must not go out twice).
"""

from __future__ import annotations

from datetime import date
from collections.abc import Sequence

from flint_contracts.money import Money
from flint_sdk.api.operation import Operation, body, model, new_idempotency_key, page_of, path, raw_bytes
from flint_sdk.models import Invoice, Page

SERVICE = "invoicing"


def create(order_id: str, *, due_date: date, amount: Money | None = None,
           reminder_policy: Sequence[int] | None = None, memo: str | None = None,
           idempotency_key: str | None = None) -> Operation[Invoice]:
    fields = body(order_id=order_id, amount=amount, due_date=due_date.isoformat(),
                  reminder_policy=list(reminder_policy) if reminder_policy is not None else None, memo=memo)
    return Operation("POST", SERVICE, "/v1/invoices", model(Invoice), json=fields,
                     idempotency_key=idempotency_key or new_idempotency_key())


def get(invoice_id: str) -> Operation[Invoice]:
    return Operation("GET", SERVICE, path("/v1/invoices/{}", invoice_id), model(Invoice))


def list_(*, order_id: str | None = None, status: str | None = None, limit: int | None = None,
          starting_after: str | None = None) -> Operation[Page[Invoice]]:
    return Operation("GET", SERVICE, "/v1/invoices", page_of(Invoice),
                     params={"order_id": order_id, "status": status, "limit": limit,
                             "starting_after": starting_after},
                     cursor_param="starting_after")


def action(invoice_id: str, name: str, *, idempotency_key: str | None = None) -> Operation[Invoice]:
    """``send``, ``remind``, ``void`` or ``mark-uncollectible``."""
    return Operation("POST", SERVICE, path("/v1/invoices/{}/" + name, invoice_id), model(Invoice),
                     idempotency_key=idempotency_key)


def pdf(invoice_id: str) -> Operation[bytes]:
    return Operation("GET", SERVICE, path("/v1/invoices/{}.pdf", invoice_id), raw_bytes)
