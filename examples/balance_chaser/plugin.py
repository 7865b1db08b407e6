"""Balance chaser: when an order still owes money, send the buyer a hosted invoice.

It chases an order that took a deposit (``order.partially_paid``) or that was placed on
invoice terms (``order.created`` with the tag ``invoice``): it creates an invoice for the
balance due, due in ``DUE_IN_DAYS`` days with ``REMINDERS``, then writes what it did in its
own metadata namespace on the order and a note for the merchant. Events come at least once:
the invoice's idempotency key is the event's id, and an order whose metadata already names
an invoice is left alone.

Run it with the app's settings in the environment (see README.md):
``python examples/balance_chaser/plugin.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flint_sdk import AsyncFlintClient, ConflictError, Event, Plugin, TokenSet

DUE_IN_DAYS = 14
REMINDERS = [-3, 0, 3, 7]  # days relative to the due date
CHASE_TAG = "invoice"

log = logging.getLogger("balance_chaser")
APP_ID = os.environ["FLINT_APP_ID"]
TOKENS = Path(os.environ.get("FLINT_PLUGIN_TOKENS", "balance-chaser-tokens.json"))  # {merchant id: refresh token}


class Merchants:
    """One API client per merchant that installed the app, renewing its tokens as needed and
    keeping every rotated refresh token in ``TOKENS`` (Flint rotates it on every use)."""

    def __init__(self) -> None:
        self._clients: dict[str, AsyncFlintClient] = {}

    def client(self, merchant_id: str) -> AsyncFlintClient:
        if merchant_id not in self._clients:
            refresh_token = json.loads(TOKENS.read_text())[merchant_id]  # KeyError: not installed by this merchant
            self._clients[merchant_id] = AsyncFlintClient.for_app(
                os.environ["FLINT_INSTALLS_URL"], APP_ID, os.environ["FLINT_CLIENT_SECRET"],
                refresh_token=refresh_token, on_tokens=lambda tokens: _save(merchant_id, tokens))
        return self._clients[merchant_id]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _save(merchant_id: str, tokens: TokenSet) -> None:
    stored = json.loads(TOKENS.read_text())
    stored[merchant_id] = tokens.refresh_token
    TOKENS.write_text(json.dumps(stored))


merchants = Merchants()
plugin = Plugin(APP_ID, os.environ["FLINT_KAFKA_PASSWORD"], os.environ["FLINT_KAFKA_PLUGIN_BOOTSTRAP"],
                name="balance-chaser", attempts=8)


def wants_chasing(order) -> bool:  # the order of an event's data, or as the API reads it
    owes = order.amounts.balance_due.amount > 0
    return owes and order.status == "open" and (order.payment_status == "partially_paid" or CHASE_TAG in order.tags)


@plugin.on("order.created", "order.partially_paid")
async def chase(event: Event) -> None:
    if not wants_chasing(event.data.order):
        return
    client = merchants.client(event.merchant_id)
    order = await client.orders.get(event.subject)  # the record as it is now, not as the event saw it
    if not wants_chasing(order) or order.metadata.get(APP_ID, {}).get("invoice_id"):
        return
    due = (datetime.now(UTC) + timedelta(days=DUE_IN_DAYS)).date()
    try:
        invoice = await client.invoices.create(order.id, due_date=due, reminder_policy=REMINDERS,
                                               memo=f"The balance of order #{order.number}. Thank you!",
                                               idempotency_key=f"{event.id}:invoice")
    except ConflictError as error:
        if error.code != "nothing_due":  # another invoice asks for the balance already
            raise
        log.info("order %s: nothing left to invoice", order.id)
        return
    asked = invoice.amount_due
    await client.orders.set_metadata(order.id, {
        "invoice_id": invoice.id, "invoice_number": invoice.display_number, "amount": asked.model_dump(),
        "due_date": invoice.due_date.isoformat(), "reminders": REMINDERS, "chased_at": datetime.now(UTC).isoformat(),
    })
    await client.orders.add_note(
        order.id, f"Balance chaser sent invoice {invoice.display_number} for {asked.to_decimal()} {asked.currency}, "
                  f"due {invoice.due_date:%d %B %Y}, reminders {REMINDERS} days around the due date.",
        idempotency_key=f"{event.id}:note")
    log.info("order %s: invoice %s for %s %s", order.id, invoice.id, asked.to_decimal(), asked.currency)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.info("balance chaser for app %s: reading %s", APP_ID, plugin.topic)
    try:
        await plugin.run()
    finally:
        await merchants.close()


if __name__ == "__main__":
    asyncio.run(main())
