"""The narrated demo `make up` runs once everything is up: a paid order that the refund desk
partly refunds on a support agent's note, an order with a deposit whose balance the balance
chaser invoices and the buyer pays on the hosted page, and both orders' timelines.

Everything goes through public surfaces: the merchant's API client (flint_sdk), the sandbox
processor as `flint trigger` runs it, the pay page over HTTP like a browser, and the plugins
reacting to the events on their own topics. Each step waits, with a deadline, for the
services and plugins to act."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from deploy.demo import installing, timeline
from flint_cli.output import out
from flint_cli.triggers.pay_page import TEST_CARD, pay_hosted_invoice
from flint_cli.triggers.samples import camping_order
from flint_cli.triggers.sandbox import Sandbox
from flint_sdk import FlintClient, Money, Order

T = TypeVar("T")
DEADLINE = float(os.environ.get("FLINT_DEMO_WAIT", "60"))
REFUND_NOTE = "refund 12.50 defective: one enamel mug arrived chipped"
DEPOSIT = Money(amount=5000, currency="EUR")


class DemoFailed(RuntimeError):
    pass


def say(line: str) -> None:
    out.print(line, markup=False)


def until(what: str, check: Callable[[], T | None], timeout: float = DEADLINE) -> T:
    deadline = time.monotonic() + timeout
    while True:
        if (found := check()) is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise DemoFailed(f"{what}: not within {timeout:.0f}s (see `make logs`)")
        time.sleep(0.25)


class _Environment:
    """What the sandbox runner reads its settings from (the stack's environment)."""

    @staticmethod
    def setting(name: str) -> str | None:
        return os.environ.get(name)


def paid_order_refunded_by_the_desk(shop: FlintClient, sandbox: Sandbox, merchant_id: str, desk: str) -> Order:
    order = shop.orders.create(camping_order())
    say(f"\n1. Ada orders a tent and two mugs: order #{order.number} ({order.id}), {_money(order.amounts.total)}.")
    sandbox.capture(order_id=order.id, amount=order.amounts.total, merchant_id=merchant_id)
    until("the order paid", lambda: shop.orders.get(order.id).payment_status == "paid")
    say(f"   She pays {_money(order.amounts.total)} by card (sandbox processor): the order is paid.")
    say(f"2. A mug arrives chipped. Support writes a note on the order: \"{REFUND_NOTE}\"")
    shop.orders.add_note(order.id, REFUND_NOTE)
    refunded = until("the refund desk's refund", lambda: _refunded(shop, order.id))
    decision = refunded.metadata[desk]["decisions"][-1]
    say(f"   The refund desk read the timeline and the refund context, quoted, and refunded: {decision['summary']}.")
    say(f"   Order now: {refunded.payment_status}, refunded {_money(refunded.amounts.refunded)}, "
        f"net paid {_money(refunded.amounts.net_paid)}.")
    return refunded


def deposit_order_chased_and_paid(shop: FlintClient, sandbox: Sandbox, merchant_id: str, chaser: str) -> Order:
    order = shop.orders.create(camping_order("grace@example.com"))
    say(f"\n3. Grace orders the same and pays a deposit of {_money(DEPOSIT)}: order #{order.number} ({order.id}).")
    sandbox.capture(order_id=order.id, amount=DEPOSIT, merchant_id=merchant_id)
    chased = until("the balance chaser's invoice", lambda: _chased(shop, order.id, chaser))
    invoice = shop.invoices.get(chased.metadata[chaser]["invoice_id"])
    say(f"   The balance chaser saw {_money(invoice.amount_due)} still due and sent invoice "
        f"{invoice.display_number}, due {invoice.due_date}, reminders {invoice.reminder_policy} days around it.")
    say(f"   Pay link (mailed to Grace, see the mail folder): {invoice.hosted_url}")
    pay_hosted_invoice(invoice.hosted_url or "", card=TEST_CARD, name="Grace Hopper")
    paid = until("the order paid by invoice", lambda: _paid(shop, order.id))
    say(f"4. Grace pays on the hosted page with {TEST_CARD}: invoice paid, order {paid.payment_status}, "
        f"balance due {_money(paid.amounts.balance_due)}.")
    return paid


def _refunded(shop: FlintClient, order_id: str) -> Order | None:
    order = shop.orders.get(order_id)
    return order if order.payment_status == "partially_refunded" and order.metadata else None


def _chased(shop: FlintClient, order_id: str, chaser: str) -> Order | None:
    order = shop.orders.get(order_id)
    return order if order.metadata.get(chaser, {}).get("invoice_id") else None


def _paid(shop: FlintClient, order_id: str) -> Order | None:
    order = shop.orders.get(order_id)
    return order if order.payment_status == "paid" else None


def _money(money: Money) -> str:
    return f"{money.to_decimal()} {money.currency}"


def run() -> list[Order]:
    """The story; returns the two orders as they end."""
    shop_account = installing.merchant(say)
    desk, chaser = installing.app_id_of("refund-desk"), installing.app_id_of("balance-chaser")
    say(f"Acme Outdoor ({shop_account['id']}) has installed two plugins: Refund Desk ({desk}) and "
        f"Balance Chaser ({chaser}). Each reads its own Kafka topic, flint.app.<app id>.v1.")
    sandbox = Sandbox(_Environment())  # type: ignore[arg-type] - it reads settings only
    with FlintClient.for_merchant(os.environ["FLINT_INSTALLS_URL"], shop_account["id"],
                                  shop_account["secret_key"]) as shop:
        orders = [paid_order_refunded_by_the_desk(shop, sandbox, shop_account["id"], desk),
                  deposit_order_chased_and_paid(shop, sandbox, shop_account["id"], chaser)]
        for order in orders:
            say("")
            timeline.show(f"Timeline of order #{order.number} ({order.id})",
                          list(shop.orders.iterate_timeline(order.id)), {desk: "refund desk", chaser: "balance chaser"})
    return orders
