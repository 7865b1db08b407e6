"""The orders HTTP API (``/v1``): create, read, list, timeline, refund context and the
actions plugins may take (notes, tags, their own metadata, cancel).

Reads answer with the order exactly as stored (JSONB), without decoding it. Another
merchant's order is a 404, never a 403 that would reveal it exists.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from pydantic import AwareDatetime

from flint_chassis.auth import Authenticator, Principal, TokenVerifier
from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import Problem
from flint_chassis.runtime import ServiceRuntime
from flint_orders import handlers, repository
from flint_orders.config import OrdersSettings
from flint_contracts.literals import OrderStatus, PaymentStatus
from flint_contracts.order import OrderRecord
from flint_orders.domain import Actor, CurrencyMismatch, DomainError, InvalidInput, Order, normalize_tag
from flint_orders.fast_read import READ_SCOPES
from flint_orders.handlers import Cause, OrderDraft, OrderNotFound
from flint_orders.schemas import MAX_LIMIT, AddNote, CancelOrder, CreateOrder, OrderList, RefundContext, TimelinePage

JSON = "application/json"
OrderId = Annotated[str, Path(description="The order id (`ord_…`).", examples=["ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S"])]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="The same key and body (kept at least 24 h) replays the first response; the same key with "
                "another body is a 422.",
)]
_LIST_PARAMETERS = frozenset({"status", "payment_status", "customer_email", "created_gte", "created_lt", "tag",
                              "limit", "starting_after"})
_NOT_FOUND = {404: {"description": "No such order for this merchant."}}


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
        if self.runtime.pool is None:
            raise Problem(503, "Service starting", "the database is not connected yet")
        return self.runtime.pool

    @property
    def reads(self) -> asyncpg.Pool:
        """For single-statement reads (see app.create_read_pool)."""
        if self.read_pool is None:
            raise Problem(503, "Service starting", "the database is not connected yet")
        return self.read_pool


def json_response(body: str | bytes, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status_code, media_type=JSON, headers=headers)


def not_found(order_id: str) -> Problem:
    return Problem(404, "Not found", f"no order {order_id}", type="https://flint.dev/problems/not-found")


def router(context: ApiContext) -> APIRouter:
    auth = Authenticator(lambda: context.verifier)
    read = auth.require(*READ_SCOPES)
    write = auth.require("orders:write")
    api = APIRouter(prefix="/v1", tags=["orders"])

    # --- create ----------------------------------------------------------------------------

    @api.post("/orders", status_code=201, response_model=None, summary="Create an order",
              responses={201: {"model": OrderRecord, "description": "The new order."},
                         403: {"description": "Not a merchant token, or no orders:write."},
                         422: {"description": "Bad input (field and reason), or an Idempotency-Key reused "
                                              "with another body."}})
    async def create_order(
        order: CreateOrder, principal: Principal = write, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Creates an order for the token's merchant. Only the merchant (its own backend token)
        creates orders over HTTP; internal producers use `flint.orders.commands.v1`. Apps read
        orders and act on them, but cannot create them."""
        if principal.kind != "merchant":
            raise Problem(403, "Forbidden", "orders are created by the merchant or internal producers, not by apps",
                          type="https://flint.dev/problems/merchant-only")
        draft = OrderDraft(
            merchant_id=principal.merchant_id, customer=order.domain_customer(), currency=order.currency,
            lines=order.domain_lines(), shipping=order.shipping, discounts=order.domain_discounts(),
            expected_total=order.total, tags=order.tags, note=order.note,
        )
        fingerprint = _fingerprint("POST /v1/orders", order.model_dump(mode="json"))

        async def create(conn: asyncpg.Connection) -> tuple[int, str]:
            created = await handlers.create_order(conn, draft, actor=_actor(principal), cause=_cause())
            return 201, repository.dumps(created.to_dict())

        status, body = await _once(context, principal, idempotency_key, fingerprint, create)
        order_id = orjson.loads(body)["id"]
        return json_response(body, status, {"Location": f"/v1/orders/{order_id}"})

    # --- reads -----------------------------------------------------------------------------

    @api.get("/orders/{order_id}", response_model=None, summary="Get an order",
             responses={200: {"model": OrderRecord, "description": "The order record."}, **_NOT_FOUND})
    async def get_order(order_id: OrderId, principal: Principal = read) -> Response:
        """The order record. (Most reads are answered by ``fast_read.FastOrderReads`` with the
        same checks; this route answers the rest: first use of a token, refusals.)"""
        doc = await repository.order_json(context.reads, principal.merchant_id, order_id)
        if doc is None:
            raise not_found(order_id)
        return Response(doc, media_type=JSON)

    @api.get("/orders", response_model=None, summary="List orders, newest first",
             responses={200: {"model": OrderList, "description": "One page of orders."}})
    async def list_orders(
        request: Request,
        principal: Principal = read,
        status: OrderStatus | None = None,
        payment_status: PaymentStatus | None = None,
        customer_email: Annotated[str | None, Query(max_length=254)] = None,
        created_gte: Annotated[AwareDatetime | None, Query(description="Created at or after (ISO 8601).")] = None,
        created_lt: Annotated[AwareDatetime | None, Query(description="Created before (ISO 8601).")] = None,
        tag: Annotated[str | None, Query(max_length=200)] = None,
        limit: Limit = 20,
        starting_after: Annotated[str | None, Query(
            max_length=200, description="The `next_cursor` of the previous page.")] = None,
    ) -> Response:
        _refuse_unknown_parameters(request)
        filters = repository.OrderFilters(
            merchant_id=principal.merchant_id, status=status, payment_status=payment_status,
            customer_email=customer_email, created_gte=created_gte, created_lt=created_lt,
            tag=_tag(tag) if tag is not None else None,
        )
        rows = await repository.list_orders(context.reads, filters, limit + 1, _cursor(starting_after))
        page, has_more = rows[:limit], len(rows) > limit
        cursor = repository.Cursor(page[-1]["created_at"], page[-1]["id"]).encode() if has_more else None
        body = b'{"object":"list","data":[' + b",".join(r["doc"].encode() for r in page) + b"],"
        body += b'"has_more":' + (b"true" if has_more else b"false") + b',"next_cursor":' + orjson.dumps(cursor) + b"}"
        return json_response(body)

    @api.get("/orders/{order_id}/timeline", response_model=None, summary="The order's timeline",
             responses={200: {"model": TimelinePage, "description": "Entries in sequence order."}, **_NOT_FOUND})
    async def timeline(
        order_id: OrderId,
        principal: Principal = read,
        limit: Limit = 100,
        starting_after: Annotated[int, Query(ge=0, description="Entries after this sequence.")] = 0,
    ) -> Response:
        if not await repository.exists(context.reads, principal.merchant_id, order_id):
            raise not_found(order_id)
        rows = await repository.timeline(context.reads, order_id, starting_after, limit + 1)
        page, has_more = rows[:limit], len(rows) > limit
        entries = [
            b'{"sequence":%d,"type":%s,"at":%s,"actor":%s,"changes":%s,"data":%s,"event_id":%s}' % (
                r["sequence"], orjson.dumps(r["type"]), orjson.dumps(r["at"]), r["actor"].encode(),
                r["changes"].encode(), r["data"].encode(), orjson.dumps(r["event_id"]))
            for r in page
        ]
        next_cursor = str(page[-1]["sequence"]) if has_more else None
        return json_response(b'{"object":"list","data":[' + b",".join(entries) + b'],"has_more":'
                             + (b"true" if has_more else b"false") + b',"next_cursor":'
                             + orjson.dumps(next_cursor) + b"}")

    @api.get("/orders/{order_id}/refund-context", response_model=None, summary="What can still be refunded",
             responses={200: {"model": RefundContext, "description": "Refundable now, and why not."},
                        **_NOT_FOUND})
    async def refund_context(order_id: OrderId, principal: Principal = read) -> Response:
        """Captured, refunded and pending amounts; the most that can be refunded in total, per
        line (quantity and amount), on shipping and per payment; and the reasons a refund would
        be refused right now (empty when one is possible)."""
        doc = await repository.order_json(context.reads, principal.merchant_id, order_id)
        if doc is None:
            raise not_found(order_id)
        context_ = Order.from_dict(orjson.loads(doc)).refund_context()
        return json_response(orjson.dumps(context_.to_dict()))

    # --- actions ---------------------------------------------------------------------------

    @api.post("/orders/{order_id}/notes", status_code=201, response_model=None, summary="Add a note",
              responses={201: {"model": OrderRecord, "description": "The order with the note."}, **_NOT_FOUND})
    async def add_note(
        order_id: OrderId, note: AddNote, principal: Principal = write, idempotency_key: IdempotencyKey = None
    ) -> Response:
        fingerprint = _fingerprint(f"POST /v1/orders/{order_id}/notes", note.model_dump(mode="json"))

        async def add(conn: asyncpg.Connection) -> tuple[int, str]:
            order = await handlers.add_note(conn, principal.merchant_id, order_id, note.body, actor=_actor(principal),
                                            cause=_cause())
            return 201, repository.dumps(order.to_dict())

        status, body = await _once(context, principal, idempotency_key, fingerprint, add, order_id=order_id)
        return json_response(body, status)

    @api.put("/orders/{order_id}/tags/{tag}", response_model=None, summary="Tag the order",
             responses={200: {"model": OrderRecord, "description": "The order; tagging twice changes nothing."},
                        **_NOT_FOUND})
    async def add_tag(order_id: OrderId, tag: str, principal: Principal = write) -> Response:
        return await _change(context, order_id, lambda conn: handlers.add_tag(
            conn, principal.merchant_id, order_id, tag, actor=_actor(principal), cause=_cause()))

    @api.delete("/orders/{order_id}/tags/{tag}", response_model=None, summary="Remove a tag",
                responses={200: {"model": OrderRecord, "description": "The order without the tag."}, **_NOT_FOUND})
    async def remove_tag(order_id: OrderId, tag: str, principal: Principal = write) -> Response:
        return await _change(context, order_id, lambda conn: handlers.remove_tag(
            conn, principal.merchant_id, order_id, tag, actor=_actor(principal), cause=_cause()))

    @api.put("/orders/{order_id}/metadata", response_model=None, summary="Replace the calling app's metadata",
             responses={200: {"model": OrderRecord, "description": "The order with every app's metadata."},
                        403: {"description": "Not an app token: only an app writes, and only its own namespace."},
                        **_NOT_FOUND})
    async def set_metadata(
        order_id: OrderId,
        values: Annotated[dict[str, Any], Body(
            description="The app's whole namespace (a JSON object, at most 16 KiB); `{}` removes it.",
            examples=[{"loyalty_points": 120, "synced": True}])],
        principal: Principal = write,
    ) -> Response:
        """Writes `metadata.<app id>` of the calling app and nothing else. Other apps'
        namespaces are readable on the order, never writable."""
        if principal.kind != "app" or not principal.app_id:
            raise Problem(403, "Forbidden", "metadata belongs to apps: only an app token writes its own namespace",
                          type="https://flint.dev/problems/app-only")
        app_id = principal.app_id
        return await _change(context, order_id, lambda conn: handlers.set_metadata(
            conn, principal.merchant_id, order_id, app_id, values, cause=_cause()))

    @api.post("/orders/{order_id}/cancel", response_model=None, summary="Cancel the order",
              responses={200: {"model": OrderRecord, "description": "The canceled order."},
                         409: {"description": "The order is already completed or canceled."}, **_NOT_FOUND})
    async def cancel(
        order_id: OrderId, body: CancelOrder | None = None, principal: Principal = write,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Cancels an open order: nothing is owed anymore, money kept becomes credit, and with
        nothing captured its payment status becomes `voided`."""
        reason = (body or CancelOrder()).reason
        fingerprint = _fingerprint(f"POST /v1/orders/{order_id}/cancel", {"reason": reason})

        async def run(conn: asyncpg.Connection) -> tuple[int, str]:
            order = await handlers.cancel_order(conn, principal.merchant_id, order_id, reason,
                                                actor=_actor(principal), cause=_cause())
            return 200, repository.dumps(order.to_dict())

        status, body_ = await _once(context, principal, idempotency_key, fingerprint, run, order_id=order_id)
        return json_response(body_, status)

    return api


# --- helpers ------------------------------------------------------------------------------------------


async def _change(context: ApiContext, order_id: str, run: Any) -> Response:
    async with context.pool.acquire() as conn, conn.transaction():
        try:
            order = await run(conn)
        except OrderNotFound:
            raise not_found(order_id) from None
    return json_response(repository.dumps(order.to_dict()))


async def _once(
    context: ApiContext, principal: Principal, key: str | None, fingerprint: str, run: Any, *,
    order_id: str | None = None,
) -> tuple[int, str]:
    """Runs a create once per Idempotency-Key: the first response is stored in the same
    transaction and replayed for the same key and body; another body is a 422."""
    ttl = timedelta(hours=context.settings.idempotency_ttl_hours)
    async with context.pool.acquire() as conn, conn.transaction():
        if key is not None:
            stored = await repository.claim_key(conn, principal.merchant_id, principal.subject, key, fingerprint, ttl)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise Problem(
                        422, "Idempotency-Key reused", "this Idempotency-Key was used with a different request",
                        type="https://flint.dev/problems/idempotency-key-reused",
                        errors=[{"field": "Idempotency-Key", "reason": "was used with a different request body"}],
                    )
                return stored.status_code, stored.body
        try:
            status, body = await run(conn)
        except OrderNotFound:
            raise not_found(order_id or "") from None
        if key is not None:
            await repository.store_response(conn, principal.merchant_id, principal.subject, key, status, body)
    return status, body


def _fingerprint(operation: str, body: Any) -> str:
    return hashlib.sha256(operation.encode() + b"\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _actor(principal: Principal) -> Actor:
    return Actor(**principal.actor)


def _cause() -> Cause:
    return Cause(correlation_id=current_correlation_id())


def _refuse_unknown_parameters(request: Request) -> None:
    unknown = sorted(set(request.query_params) - _LIST_PARAMETERS)
    if unknown:
        raise Problem(422, "Invalid request", f"unknown query parameters: {', '.join(unknown)}",
                      type="https://flint.dev/problems/validation",
                      errors=[{"field": name, "reason": "is not a parameter of this list"} for name in unknown])


def _tag(tag: str) -> str:
    try:
        return normalize_tag(tag)
    except DomainError as error:
        raise domain_problem(error) from None


def _cursor(text: str | None) -> repository.Cursor | None:
    if text is None:
        return None
    try:
        return repository.Cursor.decode(text)
    except ValueError as error:
        raise Problem(422, "Invalid request", f"starting_after: {error}", type="https://flint.dev/problems/validation",
                      errors=[{"field": "starting_after", "reason": str(error)}]) from None


# The API names fields as its request bodies do; the domain names them as its arguments.
_FIELD_NAMES = {"lines": "line_items", "expected_total": "total"}


def api_field(field: str | None) -> str:
    """``lines[0].unit_price`` (domain) -> ``line_items.0.unit_price`` (request body)."""
    if not field:
        return "body"
    dotted = re.sub(r"\[(\d+)\]", r".\1", field)
    head, _, rest = dotted.partition(".")
    head = _FIELD_NAMES.get(head, head)
    return f"{head}.{rest}" if rest else head


def domain_problem(error: DomainError) -> Problem:
    """Bad input is a 422 naming the field; a change the order's state refuses is a 409."""
    field = api_field(error.field)
    status = 422 if isinstance(error, (InvalidInput, CurrencyMismatch)) else 409
    return Problem(
        status, "Invalid request" if status == 422 else "Conflict", f"{field}: {error.reason}",
        type=f"https://flint.dev/problems/{error.code.replace('_', '-')}",
        errors=[{"field": field, "reason": error.reason, "code": error.code}],
    )
