"""The refunds HTTP API (``/v1``): quote a refund, refund, read refunds.

Another merchant's order or refund is a 404, never a 403 that would reveal it exists.
Errors, edge checks, rate limits, idempotency and list cursors are the chassis'
(``flint_chassis.http``); the refund rules are the contracts' (``flint_contracts.refund_rules``).

Scopes: ``refunds:write`` to quote and to refund (a quote is the first half of a refund and
answers with what this caller could refund; an app that only reads sees what is refundable
in the order's refund context, with ``orders:read``), ``refunds:read`` to read refunds.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

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
    page_json,
    service_http,
    split_page,
)
from flint_chassis.http.lists import invalid_cursor
from flint_chassis.logs import current_correlation_id
from flint_chassis.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem
from flint_chassis.runtime import ServiceRuntime
from flint_contracts.events import Actor
from flint_contracts.fields import example_id
from flint_contracts.ids import id_pattern
from flint_contracts.literals import RefundStatus
from flint_refunds import handlers, repository
from flint_refunds.config import RefundsSettings
from flint_refunds.domain import OrderNotFound, Refund, RefundRefused
from flint_refunds.problems import api_field, refusal_problem
from flint_refunds.schemas import CreateRefund, QuoteOut, QuoteRefund, RefundList, RefundOut
from flint_refunds.worker import AnswerRuns

NO_ORDER = {"description": "No such order of this merchant (`not_found`): none exists, or it is another merchant's."}
RefundIdPath = Annotated[str, Path(description="The refund id (`rfd_…`).", pattern=id_pattern("rfd"), max_length=30,
                                   examples=[example_id("rfd")])]
OrderIdQuery = Annotated[str | None, Query(description="Only this order's refunds.", pattern=id_pattern("ord"),
                                           max_length=30, examples=[example_id("ord")])]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


@dataclass
class ApiContext:
    """What the routes need, filled in when the service has started."""

    settings: RefundsSettings
    runtime: ServiceRuntime
    verifier: TokenVerifier | None = None
    answers: AnswerRuns | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self.runtime.pool is None:
            raise Problem(SERVICE_UNAVAILABLE, "the database is not connected yet", headers={"Retry-After": "1"})
        return self.runtime.pool


def router(context: ApiContext) -> APIRouter:
    auth = Authenticator(lambda: context.verifier)
    read = auth.require("refunds:read")
    write = auth.require("refunds:write")
    http: Any = Depends(service_http)
    api = APIRouter(prefix="/v1", tags=["refunds"])

    @api.post("/refunds/quote", response_model=None, summary="Quote a refund",
              responses={200: {"model": QuoteOut, "description": "What would be refunded, and every reason it would "
                                                                 "be refused (empty when it would be accepted)."},
                         404: NO_ORDER})
    async def quote_refund(body: QuoteRefund, principal: Principal = write) -> Response:
        """What a refund of these items, this shipping and/or this amount would return: per line
        (tax and discount shares included), on shipping and per payment; the most that can be
        refunded; and every reason it would be refused right now. Changes nothing."""
        async with context.pool.acquire() as conn:
            quote = await _refunds_call(handlers.quote(conn, principal.merchant_id, body.order_id, body))
        answer = {"object": "refund_quote", "order_id": body.order_id, **quote.model_dump(mode="json")}
        for refusal in answer["refusals"]:
            refusal["field"] = refusal["field"] and api_field(refusal["field"])
        return json_response(answer)

    @api.post("/refunds", status_code=201, response_model=None, summary="Refund an order",
              responses={201: {"model": RefundOut, "description": "The refund: `succeeded` or `failed` when the "
                                                                  "processor answered in time, else `pending`."},
                         404: NO_ORDER,
                         409: {"description": "The order cannot refund this now (`not_paid`, `exceeds_refundable`, "
                                              "`line_quantity_exceeded` ...); `errors` lists every reason."}})
    async def create_refund(
        request: Request, body: CreateRefund, principal: Principal = write, idempotency_key: IdempotencyKey = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """Refunds items of lines (their tax and discount shares follow), shipping and/or a plain
        amount, never more than is left: pending refunds count, so concurrent refunds of one
        order, from any number of apps, never add up to more than was captured. The refund is
        stored `pending` with its `refund.created` event, then run on the payment processor
        at once; the answer waits a few seconds for that (docs/refunds.md)."""
        new = handlers.NewRefund(order_id=body.order_id, request=body, reason=body.reason, note=body.note,
                                 actor=Actor(**principal.actor))
        answers = context.answers
        runs_now = answers is not None and answers.enabled
        created: list[Refund] = []

        async def create(conn: asyncpg.Connection) -> Response:
            refund = await _refunds_call(handlers.create_refund(
                conn, principal.merchant_id, new, correlation_id=current_correlation_id(),
                due_in=context.settings.refund_lease_seconds if runs_now else 0.0))
            created.append(refund)
            return _refund_response(refund)

        async def run_it(stored: Response) -> Response:
            if not created or not runs_now:
                return stored
            refund = await answers.run(created[0].id) or await repository.refund(context.pool, created[0].id)
            return _refund_response(refund or created[0])

        return await edge.idempotency.run(request, caller=caller_of(principal.merchant_id, principal.subject),
                                          key=idempotency_key, action=create, after_commit=run_it)

    @api.get("/refunds/{refund_id}", response_model=None, summary="Get a refund",
             responses={200: {"model": RefundOut, "description": "The refund."}})
    async def get_refund(refund_id: RefundIdPath, principal: Principal = read) -> Response:
        doc = await repository.refund_json(context.pool, principal.merchant_id, refund_id)
        if doc is None:
            raise Problem(NOT_FOUND, f"no refund {refund_id}")
        return json_response(doc)

    @api.get("/refunds", response_model=None, summary="List refunds, newest first",
             responses={200: {"model": RefundList, "description": "One page of refunds."}, 404: NO_ORDER})
    async def list_refunds(
        principal: Principal = read,
        order_id: OrderIdQuery = None,
        status: RefundStatus | None = None,
        limit: Limit = DEFAULT_LIMIT,
        starting_after: StartingAfter = None,
        edge: ServiceHttp = http,
    ) -> Response:
        """The merchant's refunds, or one order's (`order_id`; another merchant's order is a 404);
        `status` narrows further. Pages follow `next_cursor`."""
        merchant = principal.merchant_id
        after = _position(edge.cursors.decode("refunds", merchant, starting_after)) if starting_after else None
        if order_id is not None and not await repository.order_of_merchant(context.pool, merchant, order_id):
            raise Problem(NOT_FOUND, f"no order {order_id}")
        rows = await repository.list_refunds(context.pool, merchant, order_id=order_id, status=status,
                                             limit=limit + 1, after=after)
        page, has_more = split_page(rows, limit)
        cursor = None
        if has_more:
            cursor = edge.cursors.encode("refunds", merchant, [_micros(page[-1]["created_at"]), page[-1]["id"]])
        return json_response(page_json([row["doc"].encode() for row in page], has_more, cursor))

    return api


# --- helpers ------------------------------------------------------------------------------------------


async def _refunds_call(call: Awaitable[T]) -> T:
    """The handler's result; its refusals as problems (raised inside the transaction, so
    nothing is stored)."""
    try:
        return await call
    except OrderNotFound as missing:
        raise Problem(NOT_FOUND, f"no order {missing.order_id}") from None
    except RefundRefused as refused:
        raise refusal_problem(refused.refusals) from None


def _refund_response(refund: Refund) -> Response:
    return json_response(repository.dumps(refund.to_dict()), 201, {"Location": f"/v1/refunds/{refund.id}"})


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike a float


def _position(position: list[Any]) -> repository.Position:
    if len(position) != 2 or not isinstance(position[0], int) or not isinstance(position[1], str):
        raise invalid_cursor()
    return repository.Position(_EPOCH + timedelta(microseconds=position[0]), position[1])
