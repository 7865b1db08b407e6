"""Orders service calls (docs/orders.md): the order record, its timeline, refund context,
and what an app may change on it (notes, tags, its own metadata, cancel)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict, Unpack

from flint_sdk.api.operation import Operation, body, model, new_idempotency_key, page_of, path
from flint_sdk.models import Order, Page, RefundContext, TimelineEntry

SERVICE = "orders"


def get(order_id: str) -> Operation[Order]:
    return Operation("GET", SERVICE, path("/v1/orders/{}", order_id), model(Order))


class OrderFilters(TypedDict, total=False):
    """Filters of ``GET /v1/orders`` (times with a time zone); ``limit`` is the page size."""

    status: str
    payment_status: str
    customer_email: str
    tag: str
    created_gte: datetime
    created_lt: datetime
    updated_gte: datetime
    updated_lt: datetime
    limit: int
    starting_after: str


def list_(**filters: Unpack[OrderFilters]) -> Operation[Page[Order]]:
    return Operation("GET", SERVICE, "/v1/orders", page_of(Order), params=dict(filters), cursor_param="starting_after")


def create(order: Mapping[str, Any], *, idempotency_key: str | None = None) -> Operation[Order]:
    return Operation("POST", SERVICE, "/v1/orders", model(Order), json=body(**order),
                     idempotency_key=idempotency_key or new_idempotency_key())


def timeline(order_id: str, *, limit: int | None = None,
             starting_after: str | None = None) -> Operation[Page[TimelineEntry]]:
    return Operation("GET", SERVICE, path("/v1/orders/{}/timeline", order_id), page_of(TimelineEntry),
                     params={"limit": limit, "starting_after": starting_after}, cursor_param="starting_after")


def refund_context(order_id: str) -> Operation[RefundContext]:
    return Operation("GET", SERVICE, path("/v1/orders/{}/refund-context", order_id), model(RefundContext))


def add_note(order_id: str, text: str, *, idempotency_key: str | None = None) -> Operation[Order]:
    return Operation("POST", SERVICE, path("/v1/orders/{}/notes", order_id), model(Order), json={"body": text},
                     idempotency_key=idempotency_key or new_idempotency_key())


def add_tag(order_id: str, tag: str) -> Operation[Order]:
    return Operation("PUT", SERVICE, path("/v1/orders/{}/tags/{}", order_id, tag), model(Order))


def remove_tag(order_id: str, tag: str) -> Operation[Order]:
    return Operation("DELETE", SERVICE, path("/v1/orders/{}/tags/{}", order_id, tag), model(Order))


def set_metadata(order_id: str, values: Mapping[str, Any]) -> Operation[Order]:
    return Operation("PUT", SERVICE, path("/v1/orders/{}/metadata", order_id), model(Order), json=dict(values))


def cancel(order_id: str, *, reason: str | None = None, idempotency_key: str | None = None) -> Operation[Order]:
    return Operation("POST", SERVICE, path("/v1/orders/{}/cancel", order_id), model(Order), json=body(reason=reason),
                     idempotency_key=idempotency_key or new_idempotency_key())
