"""The orders HTTP API (``/v1``): create, read, list, timeline, refund context and the
actions plugins may take (notes, tags, their own metadata, cancel).

Reads answer with the order exactly as stored (JSONB), without decoding it. Another
merchant's order is a 404, never a 403 that would reveal it exists. Errors, edge checks,
rate limits, idempotency and list cursors are the chassis' (``flint_chassis.http``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from flint_chassis.auth import Authenticator, Principal, TokenVerifier
from flint_chassis.cause import Cause
from flint_chassis.http import (
    DEFAULT_LIMIT,
    IdempotencyKey,
    Limit,
    ServiceHttp,
    StartingAfter,
    Timestamp,
    json_response,
    page_json,
    service_http,
    split_page,
)
from flint_chassis.http.lists import invalid_cursor
from flint_chassis.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem, invalid
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.ids import id_pattern
from flint_contracts.limits import MAX_EMAIL_LENGTH, MAX_PAGE_SIZE, MAX_TAG_LENGTH
from flint_orders import handlers, repository
from flint_orders.config import OrdersSettings
from flint_contracts.literals import OrderStatus, PaymentStatus
from flint_contracts.order import OrderRecord
from flint_orders.domain import Actor, DomainError, Order, normalize_tag
from flint_orders.fast_read import READ_SCOPES
from flint_orders.handlers import OrderDraft, OrderNotFound
from flint_orders.problems import APP_ONLY, MERCHANT_ONLY, domain_problem
from flint_orders.schemas import (
    METADATA_DESCRIPTION,
    METADATA_SCHEMA,
    AddNote,
    CancelOrder,
    CreateOrder,
    OrderList,
    RefundContext,
    TimelinePage,
)

OrderId = Annotated[str, Path(
    description="The order id (`ord_…`).", pattern=id_pattern("ord"), max_length=30,
    examples=["ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S"],
)]
TagPath = Annotated[str, Path(min_length=1, max_length=MAX_TAG_LENGTH, description="The tag (compared "
                                                                                   "case-insensitively).")]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ApiContext:
    """What the routes need, filled in when the runtime has started."""

    settings: OrdersSettings
    runtime: ServiceRuntime
    verifier: TokenVerifier | None = None
    read_pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        """For writes: the runtime's pool (transactions, outbox)."""
        return self.runtime.ready_pool

    @property
    def reads(self) -> asyncpg.Pool:
        """For single-statement reads (see app.create_read_pool)."""
        if self.read_pool is None:
            raise Problem(SERVICE_UNAVAILABLE, "the database is not connected yet", headers={"Retry-After": "1"})
        return self.read_pool


def not_found(order_id: str) -> Problem:
    return Problem(NOT_FOUND, f"no order {order_id}")


def router(context: ApiContext) -> APIRouter:
    auth = Authenticator(lambda: context.verifier)
    read = auth.require(*READ_SCOPES)
    write = auth.require("orders:write")
    http: Any = Depends(service_http)
    api = APIRouter(prefix="/v1", tags=["orders"])

    # --- create ----------------------------------------------------------------------------

    @api.post("/orders", status_code=201, response_model=None, summary="Create an order",
              responses={201: {"model": OrderRecord, "description": "The new order."},
                         403: {"description": "Not a merchant token (`merchant_only`), or no orders:write."}})
    async def create_order(
        request: Request, order: CreateOrder, principal: Principal = write, idempotency_key: IdempotencyKey = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """Creates an order for the token's merchant. Only the merchant (its own backend token)
        creates orders over HTTP; internal producers use `flint.orders.commands.v1`. Apps read
        orders and act on them, but cannot create them."""
        return await create(edge, request, principal, order, idempotency_key)

    # --- reads -----------------------------------------------------------------------------

    @api.get("/orders/{order_id}", response_model=None, summary="Get an order",
             responses={200: {"model": OrderRecord, "description": "The order record."}})
    async def get_order(order_id: OrderId, principal: Principal = read) -> Response:
        """The order record. (Most reads are answered by ``fast_read.FastOrderReads`` with the
        same checks; this route answers the rest: first use of a token, refusals.)"""
        doc = await repository.order_json(context.reads, principal.merchant_id, order_id)
        if doc is None:
            raise not_found(order_id)
        return json_response(doc)

    @api.get("/orders", response_model=None, summary="List orders, newest first",
             responses={200: {"model": OrderList, "description": "One page of orders."}})
    async def list_orders(
        principal: Principal = read,
        status: OrderStatus | None = None,
        payment_status: PaymentStatus | None = None,
        customer_email: Annotated[str | None, Query(max_length=MAX_EMAIL_LENGTH)] = None,
        created_gte: Annotated[Timestamp | None, Query(description="Created at or after (ISO 8601).")] = None,
        created_lt: Annotated[Timestamp | None, Query(description="Created before (ISO 8601).")] = None,
        updated_gte: Annotated[Timestamp | None, Query(
            description="Last changed at or after (ISO 8601): to sync incrementally, pass the time your last "
                        "sync started.")] = None,
        updated_lt: Annotated[Timestamp | None, Query(description="Last changed before (ISO 8601).")] = None,
        tag: Annotated[str | None, Query(min_length=1, max_length=MAX_TAG_LENGTH)] = None,
        limit: Limit = DEFAULT_LIMIT,
        starting_after: StartingAfter = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """Every filter narrows the list; pages follow `next_cursor`."""
        filters = repository.OrderFilters(
            merchant_id=principal.merchant_id, status=status, payment_status=payment_status,
            customer_email=customer_email, created_gte=created_gte, created_lt=created_lt,
            updated_gte=updated_gte, updated_lt=updated_lt, tag=_tag(tag) if tag is not None else None,
        )
        after = None
        if starting_after is not None:
            after = _order_position(edge.cursors.decode("orders", principal.merchant_id, starting_after))
        rows = await repository.list_orders(context.reads, filters, limit + 1, after)
        page, has_more = split_page(rows, limit)
        cursor = None
        if has_more:
            last = page[-1]
            cursor = edge.cursors.encode("orders", principal.merchant_id, [_micros(last["created_at"]), last["id"]])
        return json_response(page_json([r["doc"].encode() for r in page], has_more, cursor))

    @api.get("/orders/{order_id}/timeline", response_model=None, summary="The order's timeline",
             responses={200: {"model": TimelinePage, "description": "Entries in sequence order."}})
    async def get_order_timeline(
        order_id: OrderId,
        principal: Principal = read,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")] = 100,
        starting_after: StartingAfter = None,
        edge: ServiceHttp = http,
    ) -> Response:
        after = 0
        if starting_after is not None:
            after = _sequence(edge.cursors.decode(f"timeline:{order_id}", principal.merchant_id, starting_after))
        if not await repository.exists(context.reads, principal.merchant_id, order_id):
            raise not_found(order_id)
        rows = await repository.timeline(context.reads, order_id, after, limit + 1)
        page, has_more = split_page(rows, limit)
        entries = [
            b'{"sequence":%d,"type":%s,"at":%s,"actor":%s,"changes":%s,"data":%s,"event_id":%s}' % (
                r["sequence"], orjson.dumps(r["type"]), orjson.dumps(r["at"]), r["actor"].encode(),
                r["changes"].encode(), r["data"].encode(), orjson.dumps(r["event_id"]))
            for r in page
        ]
        cursor = None
        if has_more:
            cursor = edge.cursors.encode(f"timeline:{order_id}", principal.merchant_id, [page[-1]["sequence"]])
        return json_response(page_json(entries, has_more, cursor))

    @api.get("/orders/{order_id}/refund-context", response_model=None, summary="What can still be refunded",
             responses={200: {"model": RefundContext, "description": "Refundable now, and why not."}})
    async def get_refund_context(order_id: OrderId, principal: Principal = read) -> Response:
        """Captured, refunded and pending amounts; the most that can be refunded in total, per
        line (quantity and amount), on shipping and per payment; and the reasons a refund would
        be refused right now (empty when one is possible)."""
        doc = await repository.order_json(context.reads, principal.merchant_id, order_id)
        if doc is None:
            raise not_found(order_id)
        return json_response(Order.from_dict(orjson.loads(doc)).refund_context().to_dict())

    # --- actions ---------------------------------------------------------------------------

    @api.post("/orders/{order_id}/notes", status_code=201, response_model=None, summary="Add a note",
              responses={201: {"model": OrderRecord, "description": "The order with the note."}})
    async def add_order_note(
        request: Request, order_id: OrderId, note: AddNote, principal: Principal = write,
        idempotency_key: IdempotencyKey = None, edge: ServiceHttp = http,
    ) -> Response:
        """Adds a note. An order holds at most 50 notes; the next is a 422 `too_many_notes`."""

        async def add(conn: asyncpg.Connection) -> Response:
            order = await _domain(handlers.add_note(conn, principal.merchant_id, order_id, note.body,
                                                    actor=_actor(principal), cause=Cause.of_request()), order_id)
            return json_response(repository.dumps(order.to_dict()), 201)

        return await edge.idempotency.run(request, caller=principal.caller, key=idempotency_key, action=add)

    @api.put("/orders/{order_id}/tags/{tag}", response_model=None, summary="Tag the order",
             responses={200: {"model": OrderRecord, "description": "The order; tagging twice changes nothing."}})
    async def add_order_tag(order_id: OrderId, tag: TagPath, principal: Principal = write) -> Response:
        """Adds a tag. An order holds at most 100 tags; the next is a 422."""
        return await _change(context, order_id, lambda conn: handlers.add_tag(
            conn, principal.merchant_id, order_id, tag, actor=_actor(principal), cause=Cause.of_request()))

    @api.delete("/orders/{order_id}/tags/{tag}", response_model=None, summary="Remove a tag",
                responses={200: {"model": OrderRecord, "description": "The order without the tag."}})
    async def remove_order_tag(order_id: OrderId, tag: TagPath, principal: Principal = write) -> Response:
        return await _change(context, order_id, lambda conn: handlers.remove_tag(
            conn, principal.merchant_id, order_id, tag, actor=_actor(principal), cause=Cause.of_request()))

    @api.put("/orders/{order_id}/metadata", response_model=None, summary="Replace the calling app's metadata",
             responses={200: {"model": OrderRecord, "description": "The order with every app's metadata."},
                        403: {"description": "Not an app token (`app_only`): only an app writes, and only its own "
                                             "namespace."}})
    async def set_order_metadata(
        order_id: OrderId,
        values: Annotated[dict[str, Any], Body(description=METADATA_DESCRIPTION, json_schema_extra=METADATA_SCHEMA,
                                               examples=[{"loyalty_points": 120, "synced": True}])],
        principal: Principal = write,
    ) -> Response:
        """Writes `metadata.<app id>` of the calling app and nothing else. Other apps'
        namespaces are readable on the order, never writable."""
        if principal.kind != "app" or not principal.app_id:
            raise Problem(APP_ONLY, "metadata belongs to apps: only an app token writes its own namespace")
        app_id = principal.app_id
        return await _change(context, order_id, lambda conn: handlers.set_metadata(
            conn, principal.merchant_id, order_id, app_id, values, cause=Cause.of_request()))

    @api.post("/orders/{order_id}/cancel", response_model=None, summary="Cancel the order",
              responses={200: {"model": OrderRecord, "description": "The canceled order."},
                         409: {"description": "The order is already completed or canceled (`invalid_transition`)."}})
    async def cancel_order(
        request: Request, order_id: OrderId, body: CancelOrder | None = None, principal: Principal = write,
        idempotency_key: IdempotencyKey = None, edge: ServiceHttp = http,
    ) -> Response:
        """Cancels an open order: nothing is owed anymore, money kept becomes credit, and with
        nothing captured its payment status becomes `voided`."""
        reason = (body or CancelOrder()).reason

        async def run(conn: asyncpg.Connection) -> Response:
            order = await _domain(handlers.cancel_order(conn, principal.merchant_id, order_id, reason,
                                                        actor=_actor(principal), cause=Cause.of_request()), order_id)
            return json_response(repository.dumps(order.to_dict()))

        return await edge.idempotency.run(request, caller=principal.caller, key=idempotency_key, action=run)

    return api


# --- helpers ------------------------------------------------------------------------------------------


async def create(edge: ServiceHttp, request: Request, principal: Principal, order: CreateOrder,
                 idempotency_key: str | None) -> Response:
    """``POST /v1/orders`` once the request is read and its caller known: the route's body,
    and ``fast_create.FastOrderCreates``' (which checks the same things before it calls this)."""
    if principal.kind != "merchant":
        raise Problem(MERCHANT_ONLY, "orders are created by the merchant or internal producers, not by apps")
    if (beyond := order.amount_problem()) is not None:
        raise invalid(beyond[0], "out_of_range", beyond[1])
    draft = OrderDraft(
        merchant_id=principal.merchant_id, customer=order.domain_customer(), currency=order.currency,
        lines=order.domain_lines(), shipping=order.shipping, discounts=order.domain_discounts(),
        expected_total=order.total, tags=order.tags, note=order.note,
    )

    async def action(conn: asyncpg.Connection) -> Response:
        created = await _domain(handlers.create_order(conn, draft, actor=_actor(principal), cause=Cause.of_request()))
        return json_response(repository.dumps(created.record), 201, {"Location": f"/v1/orders/{created.order.id}"})

    # create_order needs no transaction of ours: a create without a note is one statement
    return await edge.idempotency.run(request, caller=principal.caller, key=idempotency_key, action=action,
                                      transaction=False)


async def _domain(change: Awaitable[Any], order_id: str | None = None) -> Any:
    """The handler's result; its refusals as problems (raised inside the transaction, so
    nothing is stored)."""
    try:
        return await change
    except OrderNotFound:
        raise not_found(order_id or "") from None
    except DomainError as error:
        raise domain_problem(error) from None


async def _change(context: ApiContext, order_id: str, run: Callable[[asyncpg.Connection], Awaitable[Order]]) -> Response:
    async with context.pool.acquire() as conn, conn.transaction():
        order = await _domain(run(conn), order_id)
    return json_response(repository.dumps(order.to_dict()))


def _actor(principal: Principal) -> Actor:
    return Actor(**principal.actor)


def _tag(tag: str) -> str:
    try:
        return normalize_tag(tag)
    except DomainError as error:
        raise domain_problem(error) from None


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike a float


def _order_position(position: list[Any]) -> repository.Cursor:
    if len(position) != 2 or not isinstance(position[0], int) or not isinstance(position[1], str):
        raise invalid_cursor()
    return repository.Cursor(_EPOCH + timedelta(microseconds=position[0]), position[1])


def _sequence(position: list[Any]) -> int:
    if len(position) != 1 or not isinstance(position[0], int):
        raise invalid_cursor()
    return position[0]
