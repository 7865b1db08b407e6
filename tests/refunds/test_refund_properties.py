"""A property of the whole refunds service, on the real PostgreSQL and the sandbox's ledger:
for random orders (lines, tax, shipping, discounts), random captures (some of which the
processor refuses to refund), random refund requests (items, shipping, plain amounts, a named
payment) and random interleavings of deciding refunds concurrently and running them on the
processor, nothing ever takes more than there is (in total, per line, on shipping, per
payment), and in the end what the refunds say moved is exactly what the processor moved."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flint_contracts.events import Actor
from flint_contracts.ids import new_id
from flint_contracts.money import Money
from flint_contracts.order import OrderRecord
from flint_contracts.refund_rules import RefundRequest, RequestedLine
from flint_orders.domain import SYSTEM, Customer, Discount, NewLine, Order
from flint_payments import UnknownCharge, capture_payment
from flint_refunds import handlers, repository
from flint_refunds.domain import KnownCapture, OrderState, RefundRefused
from tests.refunds.service import RefundsService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ACTOR = Actor(type="app", id=new_id("app"))
NEVER = 3600.0  # the service's own worker leaves these refunds alone: the test runs them


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3000) | st.integers(500, 3000),
                                    st.integers(0, 800)), min_size=1, max_size=3))
    subtotal = sum(quantity * price for quantity, price, _ in lines)
    discount = draw(st.integers(0, subtotal)) if subtotal and draw(st.booleans()) else 0
    shipping = draw(st.integers(0, 800))
    total = subtotal + sum(tax for *_, tax in lines) + shipping - discount
    captures = _split(draw, total) if total else []
    return {"lines": lines, "discount": discount, "shipping": shipping, "captures": captures,
            "unrefundable": [draw(st.booleans()) and draw(st.booleans()) for _ in captures]}


def _split(draw: st.DrawFn, total: int) -> list[int]:
    """One to three captures: the total, or less (partly paid), or more (overpaid)."""
    paid = draw(st.sampled_from([total, total, max(total // 2, 1), total + 500]))
    count = draw(st.integers(1, min(3, paid)))
    cuts = sorted(draw(st.lists(st.integers(1, paid - 1), min_size=count - 1, max_size=count - 1, unique=True))) \
        if count > 1 else []
    bounds = [0, *cuts, paid]
    return [high - low for low, high in zip(bounds, bounds[1:], strict=False)]


@st.composite
def requests(draw: st.DrawFn, story: dict[str, Any]) -> list[dict[str, Any]]:
    wanted = []
    for _ in range(draw(st.integers(3, 8))):
        lines = draw(st.lists(st.tuples(st.integers(0, len(story["lines"]) - 1), st.integers(1, 3)), max_size=2,
                              unique_by=lambda item: item[0]))
        shipping = draw(st.sampled_from([None, None, "remaining", "amount"]))
        amount = draw(st.none() | st.none() | st.integers(1, 600) | st.integers(1, 3000))
        if not lines and shipping is None and amount is None:  # ask for something (zero is refused anyway)
            amount = draw(st.integers(1, 600))
        wanted.append({
            "lines": lines,
            "shipping": draw(st.integers(0, story["shipping"] + 100)) if shipping == "amount" else shipping,
            "amount": amount,
            "payment": draw(st.none() | st.integers(0, max(len(story["captures"]) - 1, 0))),
        })
    return wanted


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    story = draw(orders())
    wanted = draw(requests(story))
    # Consecutive batches decided concurrently; after each, maybe run some pending refunds
    # (concurrently with the next batch's decisions).
    sizes, left = [], len(wanted)
    while left:
        sizes.append(draw(st.integers(1, min(4, left))))
        left -= sizes[-1]
    runs = [draw(st.booleans()) for _ in sizes]
    return {"story": story, "wanted": wanted, "batches": sizes, "runs": runs}


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(schedule=schedules())
async def test_no_interleaving_of_refunds_and_processor_runs_takes_more_than_there_is(
    refunds: RefundsService, schedule: dict[str, Any]
):
    # given an order known to the refunds service, paid by sandbox captures
    merchant, order_id = new_id("mer"), new_id("ord")
    story = schedule["story"]
    order, payment_ids = await _seed(refunds, merchant, order_id, story)
    line_ids = [line["id"] for line in order["line_items"]]
    pending: list[asyncio.Task] = []

    # when refunds are decided in concurrent batches, with processor runs interleaved
    position = 0
    for size, run_after in zip(schedule["batches"], schedule["runs"], strict=True):
        batch = schedule["wanted"][position:position + size]
        position += size
        decided = [_decide(refunds, merchant, order_id, _request(w, line_ids, payment_ids)) for w in batch]
        await asyncio.gather(*decided, *pending)
        pending = [asyncio.ensure_future(_run_some(refunds, order_id))] if run_after else []
        await _check_room(refunds, order_id)
    await asyncio.gather(*pending)
    await _run_all(refunds, order_id)

    # then nothing took more than there is, and the refunds agree with the processor's ledger
    await _check_room(refunds, order_id)
    await _check_ledger(refunds, order_id, story)


# --- building the order ------------------------------------------------------------------------------


async def _seed(refunds: RefundsService, merchant: str, order_id: str, story: dict[str, Any]):
    draft = Order.create(
        merchant_id=merchant, number=1001, customer=Customer(email="ada@example.com"), currency="EUR",
        lines=[NewLine(title="Item", quantity=q, unit_price=eur(p), tax=eur(t)) for q, p, t in story["lines"]],
        shipping=eur(story["shipping"]), order_id=order_id, actor=SYSTEM,
        discounts=[Discount(code="PROMO", amount=eur(story["discount"]))] if story["discount"] else [],
    )
    payment_ids = []
    async with refunds.pool.acquire() as conn, conn.transaction():
        for amount, unrefundable in zip(story["captures"], story["unrefundable"], strict=True):
            captured = await capture_payment(refunds.sandbox, order_id=order_id, amount=eur(amount))
            reference = f"sbx_ch_{new_id('pay')[4:]}" if unrefundable else captured.processor_reference
            await handlers.record_capture(conn, KnownCapture(
                payment_id=captured.payment_id, order_id=order_id, merchant_id=merchant, amount=amount,
                currency="EUR", captured_at=captured.captured_at, processor="sandbox", processor_reference=reference))
            draft.record_payment_captured(captured.payment_id, eur(amount), at=captured.captured_at)
            payment_ids.append(captured.payment_id)
        record = OrderRecord.model_validate(draft.to_dict())
        await handlers.record_order(conn, record)
    return record.model_dump(mode="json"), payment_ids


def _request(wanted: dict[str, Any], line_ids: list[str], payment_ids: list[str]) -> RefundRequest:
    shipping = wanted["shipping"]
    return RefundRequest(
        lines=[RequestedLine(line_item_id=line_ids[index], quantity=quantity) for index, quantity in wanted["lines"]],
        shipping=eur(shipping) if isinstance(shipping, int) else shipping,
        amount=None if wanted["amount"] is None else eur(wanted["amount"]),
        payment_id=payment_ids[wanted["payment"]] if wanted["payment"] is not None and payment_ids else None,
    )


# --- acting ------------------------------------------------------------------------------------------


async def _decide(refunds: RefundsService, merchant: str, order_id: str, request: RefundRequest) -> None:
    new = handlers.NewRefund(order_id=order_id, request=request, reason="other", note=None, actor=ACTOR)
    try:
        async with refunds.pool.acquire() as conn, conn.transaction():
            await handlers.create_refund(conn, merchant, new, due_in=NEVER, correlation_id=None)
    except RefundRefused as refused:
        assert refused.refusals  # refused for a reason it names


async def _pending(refunds: RefundsService, order_id: str) -> list[str]:
    return [row["id"] for row in await refunds.pool.fetch(
        "SELECT id FROM refunds WHERE order_id = $1 AND status = 'pending' ORDER BY created_at", order_id)]


async def _run_some(refunds: RefundsService, order_id: str) -> None:
    ids = await _pending(refunds, order_id)
    await asyncio.gather(*(refunds.app.state.runner.run(refund_id) for refund_id in ids[::2]))


async def _run_all(refunds: RefundsService, order_id: str) -> None:
    for _ in range(5):
        ids = await _pending(refunds, order_id)
        if not ids:
            return
        # twice at once: two runners of one refund never refund twice
        await asyncio.gather(*(refunds.app.state.runner.run(refund_id) for refund_id in ids + ids))
    assert await _pending(refunds, order_id) == []


# --- checking ------------------------------------------------------------------------------------------


async def _state(refunds: RefundsService, order_id: str) -> OrderState:
    async with refunds.pool.acquire() as conn:
        state = await repository.order_state(conn, order_id, lock=False)
    assert state is not None
    return state


async def _check_room(refunds: RefundsService, order_id: str) -> None:
    state = await _state(refunds, order_id)
    holding = [r for r in state.refunds if r.holds_room]
    captured = {c.payment_id: c.amount for c in state.counted_captures()}
    assert sum(r.amount for r in holding) <= sum(captured.values())
    for line in state.order.lines:
        taken = [part for r in holding for part in r.lines if part.line_item_id == line.line_item_id]
        assert sum(part.quantity for part in taken) <= line.quantity
        assert sum(part.amount.amount for part in taken) <= line.subtotal() + line.tax.amount
    assert sum(r.shipping for r in holding) <= state.order.shipping
    for payment_id, amount in captured.items():
        parts = [p for r in holding for p in r.parts if p.payment_id == payment_id
                 and (r.status == "pending" or p.status == "succeeded")]
        assert sum(p.amount for p in parts) <= amount


async def _check_ledger(refunds: RefundsService, order_id: str, story: dict[str, Any]) -> None:
    state = await _state(refunds, order_id)
    assert all(r.status in ("succeeded", "failed") for r in state.refunds)
    succeeded = [r for r in state.refunds if r.status == "succeeded"]
    for capture in state.captures:
        ours = sum(p.amount for r in succeeded for p in r.parts
                   if p.payment_id == capture.payment_id and p.status == "succeeded")
        if capture.processor_reference and capture.processor_reference.startswith("sbx_ch_"):
            try:
                moved = sum(m["amount"]["amount"] for m in await refunds.ledger_refunds(capture.processor_reference))
            except UnknownCharge:  # a reference the processor never issued: nothing can have moved
                moved = 0
            assert moved == ours, (capture.payment_id, moved, ours)
    assert sum(r.amount for r in succeeded) <= sum(story["captures"])
    assert all(r.amount == sum(p.amount for p in r.parts if p.status == "succeeded") for r in succeeded)
