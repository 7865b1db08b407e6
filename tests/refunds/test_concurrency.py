"""Never an over-refund: concurrent refunds of one order, from several installs at once, on the
real PostgreSQL, with the real processor (the sandbox's ledger) moving the money."""

from __future__ import annotations

import asyncio

import pytest

from flint_contracts.ids import new_id
from tests.orders.service import eur
from tests.refunds.service import RefundsService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_fifty_concurrent_refunds_from_several_installs_never_exceed_what_was_captured(refunds: RefundsService):
    # given an order paid 28.80 in full, and five installed apps that may refund
    merchant = new_id("mer")
    order, [payment] = await refunds.paid_order(merchant)
    captured, each = 2880, 100  # 50 × 1.00 is more than was captured
    tokens = [refunds.app_token(merchant) for _ in range(5)]

    # when 50 refunds of 1.00 arrive at once, spread over the installs
    async def refund(n: int):
        return await refunds.refund(tokens[n % len(tokens)], {
            "order_id": order["id"], "reason": "goodwill", "amount": eur(each)})

    answers = await asyncio.gather(*(refund(n) for n in range(50)))

    # then exactly floor(captured / X) were accepted, and every other one refused for lack of room
    accepted = [a.json() for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(accepted) == captured // each == 28
    assert {(a.status_code, a.json()["code"]) for a in refused} == {(409, "exceeds_refundable")}
    # and what the processor moved is exactly what was accepted, never more than was captured
    settled = [await refunds.settled(merchant, r["id"]) for r in accepted]
    assert {r["status"] for r in settled} == {"succeeded"}
    moved = await refunds.ledger_refunds(payment["processor_reference"])
    assert sum(m["amount"]["amount"] for m in moved) == sum(r["amount"]["amount"] for r in settled) == 2800
    stored = await refunds.pool.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", order["id"])
    assert stored == 28
    # and the order, at the orders service, shows the same
    shown = await refunds.order_shows(merchant, order["id"],
                                      lambda o: o["amounts"]["refunded"] == eur(2800) and not o["amounts"]["refund_pending"]["amount"])
    assert shown["payment_status"] == "partially_refunded"
