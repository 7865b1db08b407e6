"""Refunds service calls (docs/refunds.md, "HTTP API")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from flint_contracts.money import Money
from flint_sdk.api.operation import Operation, body, model, new_idempotency_key, page_of, path
from flint_sdk.models import Page, Refund, RefundQuote

SERVICE = "refunds"
Lines = Sequence[dict[str, Any]]
Shipping = Literal["remaining"] | Money | None


def quote(order_id: str, *, lines: Lines | None = None, amount: Money | None = None, shipping: Shipping = None,
          payment_id: str | None = None) -> Operation[RefundQuote]:
    fields = body(order_id=order_id, lines=list(lines) if lines else None, amount=amount, shipping=shipping,
                  payment_id=payment_id)
    # A quote changes nothing, so it may be repeated like a read.
    return Operation("POST", SERVICE, "/v1/refunds/quote", model(RefundQuote), json=fields, changes_nothing=True)


def create(order_id: str, *, reason: str, lines: Lines | None = None, amount: Money | None = None,
           shipping: Shipping = None, payment_id: str | None = None, note: str | None = None,
           idempotency_key: str | None = None) -> Operation[Refund]:
    fields = body(order_id=order_id, reason=reason, lines=list(lines) if lines else None, amount=amount,
                  shipping=shipping, payment_id=payment_id, note=note)
    return Operation("POST", SERVICE, "/v1/refunds", model(Refund), json=fields,
                     idempotency_key=idempotency_key or new_idempotency_key())


def get(refund_id: str) -> Operation[Refund]:
    return Operation("GET", SERVICE, path("/v1/refunds/{}", refund_id), model(Refund))


def list_(*, order_id: str | None = None, limit: int | None = None,
          starting_after: str | None = None) -> Operation[Page[Refund]]:
    return Operation("GET", SERVICE, "/v1/refunds", page_of(Refund),
                     params={"order_id": order_id, "limit": limit, "starting_after": starting_after},
                     cursor_param="starting_after")
