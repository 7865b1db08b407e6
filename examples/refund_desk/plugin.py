"""Refund desk: a support workflow on the order's notes.

A support agent writes a note on an order such as ``refund 12.50 defective: the mug arrived
chipped`` (amount in the order's currency, a refund reason, then why). The desk reads the
order's timeline and refund context, quotes the refund, and either issues it with that
reason or declines; it records each decision in its metadata namespace on the order and as
a note the agent sees. Its policy: the order must have been paid, at most ``MAX_REFUNDS``
refunds per order, never more than the refund context says is refundable.

Run it with the app's settings in the environment (see README.md):
``python examples/refund_desk/plugin.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from pathlib import Path

from flint_sdk import AsyncFlintClient, Event, Money, Plugin, TokenSet

MAX_REFUNDS = 3
REASONS = ("requested_by_customer", "returned_items", "defective", "duplicate", "fraudulent", "goodwill", "other")
REQUEST = re.compile(r"^refund\s+(?P<amount>\d+(?:\.\d+)?)\s+(?P<reason>[a-z_]+)\s*(?::\s*(?P<why>.+))?$",
                     re.IGNORECASE | re.DOTALL)

log = logging.getLogger("refund_desk")
APP_ID = os.environ["FLINT_APP_ID"]
TOKENS = Path(os.environ.get("FLINT_PLUGIN_TOKENS", "refund-desk-tokens.json"))  # {merchant id: refresh token}
_clients: dict[str, AsyncFlintClient] = {}


def client_for(merchant_id: str) -> AsyncFlintClient:
    """The merchant's API client; every rotated refresh token is kept in ``TOKENS``."""
    def save(tokens: TokenSet) -> None:
        TOKENS.write_text(json.dumps({**json.loads(TOKENS.read_text()), merchant_id: tokens.refresh_token}))

    if merchant_id not in _clients:
        _clients[merchant_id] = AsyncFlintClient.for_app(
            os.environ["FLINT_INSTALLS_URL"], APP_ID, os.environ["FLINT_CLIENT_SECRET"],
            refresh_token=json.loads(TOKENS.read_text())[merchant_id], on_tokens=save)
    return _clients[merchant_id]


plugin = Plugin(APP_ID, os.environ["FLINT_KAFKA_PASSWORD"], os.environ["FLINT_KAFKA_PLUGIN_BOOTSTRAP"],
                name="refund-desk", attempts=8)


@plugin.on("order.note_added")
async def on_note(event: Event) -> None:
    note = event.data.note
    request = REQUEST.match(note.body.strip())
    if note.actor.type == "app" or request is None:  # its own notes, and notes that ask for nothing
        return
    client = client_for(event.merchant_id)
    order = await client.orders.get(event.subject)
    desk = order.metadata.get(APP_ID, {"decisions": []})
    if any(decision["note_id"] == note.id for decision in desk["decisions"]):
        return  # decided already (the event came again)
    amount, reason, why = request["amount"], request["reason"].lower(), (request["why"] or "").strip()
    decision = await decide(client, order, amount, reason, why, refund_key=f"{event.id}:refund")
    desk["decisions"] = [*desk["decisions"], {"note_id": note.id, **decision}][-20:]  # metadata is capped at 16 KiB
    await client.orders.set_metadata(order.id, desk)
    await client.orders.add_note(order.id, f"Refund desk: {decision['summary']}", idempotency_key=f"{event.id}:note")
    log.info("order %s: %s", order.id, decision["summary"])


async def decide(client: AsyncFlintClient, order, amount: str, reason: str, why: str, *, refund_key: str) -> dict:
    """Refund or decline, with why: the timeline, the refund context, then the quote."""
    def declined(because: str) -> dict:
        return {"decision": "declined", "amount": amount, "reason": reason, "summary": f"declined {amount} "
                f"{order.currency} ({reason}): {because}"}

    if reason not in REASONS:
        return declined(f"unknown reason; use one of {', '.join(REASONS)}")
    try:
        asked = Money.from_decimal(amount, order.currency)
    except ValueError as error:
        return declined(str(error))
    history = [entry.type async for entry in client.orders.iterate_timeline(order.id)]
    if not {"order.paid", "order.partially_paid"} & set(history):
        return declined("the order was never paid")
    if history.count("refund.created") >= MAX_REFUNDS:  # pending refunds count too
        return declined(f"it was refunded {MAX_REFUNDS} times already; ask a manager")
    context = await client.orders.refund_context(order.id)
    if asked.amount > context.max_refundable.amount:
        return declined(f"at most {context.max_refundable.to_decimal()} {order.currency} can be refunded")
    quote = await client.refunds.quote(order.id, amount=asked)
    if not quote.accepted:
        return declined("; ".join(refusal.message for refusal in quote.refusals))
    refund = await client.refunds.create(order.id, amount=asked, reason=reason, note=why or None,
                                         idempotency_key=refund_key)
    return {"decision": "refunded", "amount": amount, "reason": reason, "refund_id": refund.id,
            "summary": f"refunded {quote.total.to_decimal()} {order.currency} ({reason}) as {refund.id}"
                       f"{': ' + why if why else ''}"}


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.info("refund desk for app %s: reading %s", APP_ID, plugin.topic)
    try:
        await plugin.run()
    finally:
        for client in _clients.values():
            await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
