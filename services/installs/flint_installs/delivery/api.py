"""The install's webhook endpoints, their delivery log, and its event feed: ``/v1`` routes for
the app's own token (an install token; each call sees only that install's endpoints,
deliveries and events)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Path, Request, Response

from flint_chassis.auth import Principal
from flint_chassis.http import After, DEFAULT_LIMIT, IdempotencyKey, Limit, StartingAfter, caller_of, json_response
from flint_chassis.http.lists import invalid_cursor, page_json
from flint_chassis.problems import NOT_FOUND, Problem, problem_type
from flint_contracts.ids import id_pattern
from flint_installs.api import Context, Edge, app_principal
from flint_installs.delivery import endpoints, repository, routing_repository
from flint_installs.delivery.resolver import check_endpoint_url
from flint_installs.delivery.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointCreate,
    EndpointList,
    EndpointOut,
    EndpointWithSecret,
    EventFeedPage,
    SecretRotation,
)
from flint_installs.delivery.url_policy import URL_UNRESOLVABLE, UrlRefused

router = APIRouter(tags=["webhooks"])
feed_router = APIRouter(tags=["events"])

WEBHOOK_URL_REFUSED = problem_type(
    "webhook_url_refused", 422, "Webhook URL refused",
    "Flint does not send to this URL: not https, credentials or a fragment in it, or a host that is not a public "
    "address (`errors[].code` says which, docs/webhooks.md).")
WEBHOOK_ENDPOINT_LIMIT = problem_type(
    "webhook_endpoint_limit", 422, "Too many webhook endpoints",
    "The install has as many webhook endpoints as it may; delete one first.")
WEBHOOK_ENDPOINT_DISABLED = problem_type(
    "webhook_endpoint_disabled", 409, "Webhook endpoint disabled",
    "The delivery's endpoint is disabled; re-enable it, and its pending deliveries go out in order.")

AppCaller = Annotated[Principal, Depends(app_principal)]
EndpointId = Annotated[str, Path(pattern=id_pattern("whe"), max_length=30, examples=["whe_01JD3Z6Q0G8V6M4X2K9T7B5N1S"])]
DeliveryId = Annotated[str, Path(pattern=id_pattern("dlv"), max_length=30, examples=["dlv_01JD3Z6Q0G8V6M4X2K9T7B5N1S"])]
_CONFLICT = {409: {"description": "The delivery's endpoint is disabled (`webhook_endpoint_disabled`)."}}


def _now() -> datetime:
    return datetime.now(UTC)


def _install(principal: Principal) -> str:
    assert principal.install_id is not None  # app tokens always name their install
    return principal.install_id


def _not_found(what: str) -> Problem:
    return Problem(NOT_FOUND, f"no {what} for this install")


async def _checked_url(ctx: Context, url: str) -> str:
    settings = ctx.settings.webhooks
    try:
        async with asyncio.timeout(settings.connect_timeout):
            await check_endpoint_url(url, ctx.resolver, allow_loopback=settings.allow_loopback)
    except UrlRefused as refused:
        raise _refused(refused.code, str(refused)) from None
    except TimeoutError:
        raise _refused(URL_UNRESOLVABLE, f"the host did not resolve within {settings.connect_timeout:g}s") from None
    return url


def _refused(code: str, message: str) -> Problem:
    return Problem(WEBHOOK_URL_REFUSED, f"url: {message}", errors=[{"field": "url", "code": code, "message": message}])


# ---------------------------------------------------------------- endpoints
@router.post("/v1/webhook-endpoints", status_code=201, response_model=EndpointWithSecret,
             summary="Create a webhook endpoint (app token); its signing secret is shown once")
async def create_webhook_endpoint(body: EndpointCreate, request: Request, ctx: Context, edge: Edge,
                                  principal: AppCaller, idempotency_key: IdempotencyKey = None) -> Response:
    """A retry with the same `Idempotency-Key` shows the secret again: the stored answer is
    encrypted at rest."""
    url = await _checked_url(ctx, body.url)

    async def action(conn: asyncpg.Connection) -> Response:
        try:
            view, secret = await endpoints.create(conn, ctx.secret, install_id=_install(principal), url=url,
                                                  now=_now())
        except endpoints.TooManyEndpoints as error:
            raise Problem(WEBHOOK_ENDPOINT_LIMIT, str(error)) from None
        return json_response(EndpointWithSecret.with_secret(view, secret), 201)

    return await edge.idempotency.run(request, caller=caller_of(principal.merchant_id, principal.subject),
                                      key=idempotency_key, action=action, sealed=True)


@router.get("/v1/webhook-endpoints", response_model=EndpointList, summary="The install's webhook endpoints (app token)")
async def list_webhook_endpoints(ctx: Context, edge: Edge, principal: AppCaller, limit: Limit = DEFAULT_LIMIT,
                                 starting_after: StartingAfter = None) -> Response:
    install_id = _install(principal)
    after = _position(edge, "webhook-endpoints", install_id, starting_after)
    async with ctx.pool.acquire() as conn:
        views, has_more = await endpoints.page(conn, install_id=install_id, after=after, limit=limit, now=_now())
    cursor = edge.cursors.encode("webhook-endpoints", install_id, [views[-1].endpoint.id]) if has_more else None
    return json_response(EndpointList(data=[EndpointOut.of(v) for v in views], has_more=has_more, next_cursor=cursor))


@router.get("/v1/webhook-endpoints/{endpoint_id}", response_model=EndpointOut,
            summary="One webhook endpoint of the install (app token)")
async def get_webhook_endpoint(endpoint_id: EndpointId, ctx: Context, principal: AppCaller) -> Response:
    async with ctx.pool.acquire() as conn:
        try:
            view = await endpoints.get(conn, install_id=_install(principal), endpoint_id=endpoint_id, now=_now())
        except endpoints.NotFound:
            raise _not_found(f"webhook endpoint {endpoint_id}") from None
    return json_response(EndpointOut.of(view))


@router.delete("/v1/webhook-endpoints/{endpoint_id}", status_code=204,
               summary="Delete a webhook endpoint with its pending deliveries and log (app token)")
async def delete_webhook_endpoint(endpoint_id: EndpointId, ctx: Context, principal: AppCaller) -> Response:
    async with ctx.pool.acquire() as conn, conn.transaction():
        try:
            await endpoints.delete(conn, install_id=_install(principal), endpoint_id=endpoint_id)
        except endpoints.NotFound:
            raise _not_found(f"webhook endpoint {endpoint_id}") from None
    return Response(status_code=204)


@router.post("/v1/webhook-endpoints/{endpoint_id}/enable", response_model=EndpointOut,
             summary="Re-enable a disabled webhook endpoint (app token); its pending deliveries go out in order")
async def enable_webhook_endpoint(endpoint_id: EndpointId, request: Request, ctx: Context, edge: Edge,
                                  principal: AppCaller, idempotency_key: IdempotencyKey = None) -> Response:
    async def action(conn: asyncpg.Connection) -> Response:
        try:
            view = await endpoints.enable(conn, install_id=_install(principal), endpoint_id=endpoint_id, now=_now())
        except endpoints.NotFound:
            raise _not_found(f"webhook endpoint {endpoint_id}") from None
        await repository.wake_sender(conn)  # its queue may go at once
        return json_response(EndpointOut.of(view))

    return await edge.idempotency.run(request, caller=caller_of(principal.merchant_id, principal.subject),
                                      key=idempotency_key, action=action)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret,
             summary="A new signing secret (app token), shown once; the old one signs too for the overlap")
async def rotate_webhook_secret(endpoint_id: EndpointId, request: Request, ctx: Context, edge: Edge,
                                principal: AppCaller, body: SecretRotation | None = None,
                                idempotency_key: IdempotencyKey = None) -> Response:
    """During the overlap every delivery carries one `v1` signature per secret, so a receiver
    can switch to the new secret whenever it likes."""
    overlap = timedelta(seconds=(body or SecretRotation()).overlap_seconds)

    async def action(conn: asyncpg.Connection) -> Response:
        try:
            view, secret = await endpoints.rotate_secret(conn, ctx.secret, install_id=_install(principal),
                                                         endpoint_id=endpoint_id, overlap=overlap, now=_now())
        except endpoints.NotFound:
            raise _not_found(f"webhook endpoint {endpoint_id}") from None
        return json_response(EndpointWithSecret.with_secret(view, secret))

    return await edge.idempotency.run(request, caller=caller_of(principal.merchant_id, principal.subject),
                                      key=idempotency_key, action=action, sealed=True)


# ---------------------------------------------------------------- the delivery log
@router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", response_model=DeliveryList,
            summary="The endpoint's delivery log, newest first: every attempt with status, latency and answer")
async def list_webhook_deliveries(endpoint_id: EndpointId, ctx: Context, edge: Edge, principal: AppCaller,
                                  limit: Limit = DEFAULT_LIMIT, starting_after: StartingAfter = None) -> Response:
    install_id = _install(principal)
    before = _position(edge, f"deliveries:{endpoint_id}", install_id, starting_after)
    async with ctx.pool.acquire() as conn:
        try:
            found, has_more = await endpoints.delivery_log(conn, install_id=install_id, endpoint_id=endpoint_id,
                                                           before=before, limit=limit)
        except endpoints.NotFound:
            raise _not_found(f"webhook endpoint {endpoint_id}") from None
    cursor = edge.cursors.encode(f"deliveries:{endpoint_id}", install_id, [found[-1].id]) if has_more else None
    return json_response(DeliveryList(data=[DeliveryOut.of(d) for d in found], has_more=has_more, next_cursor=cursor))


@router.post("/v1/deliveries/{delivery_id}/retry", response_model=DeliveryOut, responses=_CONFLICT,
             summary="Send a delivery again (app token), after the earlier events of its order")
async def retry_delivery(delivery_id: DeliveryId, request: Request, ctx: Context, edge: Edge, principal: AppCaller,
                         idempotency_key: IdempotencyKey = None) -> Response:
    async def action(conn: asyncpg.Connection) -> Response:
        try:
            delivery = await endpoints.retry(conn, install_id=_install(principal), delivery_id=delivery_id,
                                             now=_now())
        except endpoints.NotFound:
            raise _not_found(f"delivery {delivery_id}") from None
        except endpoints.EndpointDisabled as error:
            raise Problem(WEBHOOK_ENDPOINT_DISABLED, str(error)) from None
        await repository.wake_sender(conn)
        return json_response(DeliveryOut.of(delivery))

    return await edge.idempotency.run(request, caller=caller_of(principal.merchant_id, principal.subject),
                                      key=idempotency_key, action=action)


# ---------------------------------------------------------------- the event feed
@feed_router.get("/v1/events", response_model=EventFeedPage,
            summary="The install's events, oldest first, as its Kafka topic holds them (30 days)")
async def list_events(ctx: Context, edge: Edge, principal: AppCaller, after: After = None,
                      limit: Limit = DEFAULT_LIMIT) -> Response:
    """Read from the start (no `after`), then keep passing `next_cursor` as `after`: the same
    events, in the same order per order, as the app's topic and webhooks carry, each once."""
    install_id = _install(principal)
    position = _position(edge, "events", install_id, after) or 0
    async with ctx.pool.acquire() as conn:
        rows = await routing_repository.page(conn, install_id, after=position, limit=limit + 1)
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1][0] if page else position
    cursor = edge.cursors.encode("events", install_id, [last]) if last else None
    return json_response(page_json([body for _, body in page], has_more, cursor))


def _position(edge: Edge, list_name: str, install_id: str, cursor: str | None) -> Any:
    """The single value a cursor of ``list_name`` holds, or None without a cursor."""
    if cursor is None:
        return None
    position = edge.cursors.decode(list_name, install_id, cursor)
    if len(position) != 1 or not isinstance(position[0], (str, int)) or isinstance(position[0], bool):
        raise invalid_cursor()
    return position[0]
