"""How orders and their timelines look in a terminal (``--json`` prints the API's own form)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.table import Table

from flint_cli.output import money, out
from flint_sdk import Order, TimelineEntry


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _customer(order: Order) -> str:
    customer: dict[str, Any] = getattr(order, "customer", None) or {}
    email, name = customer.get("email", ""), customer.get("name")
    return f"{name} <{email}>" if name else email


def _actor(actor: dict[str, Any]) -> str:
    kind = actor.get("type") or actor.get("kind") or "?"
    who = actor.get("id") or actor.get("app_id") or actor.get("merchant_id") or actor.get("service")
    return f"{kind} {who}" if who else str(kind)


def show_orders(orders: Sequence[Order]) -> None:
    if not orders:
        out.print("No orders.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("number", "id", "status", "payment", "total", "balance due", "customer", "created"):
        table.add_column(column, no_wrap=column != "customer")
    for order in orders:
        table.add_row(str(order.number), order.id, order.status, order.payment_status, money(order.amounts.total),
                      money(order.amounts.balance_due), (getattr(order, "customer", None) or {}).get("email", ""),
                      order.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


def show_order(order: Order) -> None:
    amounts = order.amounts
    out.print(f"[bold]Order #{order.number}[/]  {order.id}  ({order.status}, {order.payment_status})")
    out.print(f"Customer   {_customer(order)}", markup=False)
    out.print(f"Total      {money(amounts.total)}   captured {money(amounts.captured)}   refunded "
              f"{money(amounts.refunded)}   balance due {money(amounts.balance_due)}   credit {money(amounts.credit)}",
              markup=False)
    out.print(f"Created    {_when(order.created_at)}   updated {_when(order.updated_at)}   version {order.version}",
              markup=False)
    if order.tags:
        out.print(f"Tags       {', '.join(order.tags)}", markup=False)
    lines = Table(title="Line items", title_justify="left", box=None, pad_edge=False)
    for column in ("sku", "title", "quantity", "unit price", "tax", "total"):
        lines.add_column(column)
    for line in getattr(order, "line_items", None) or []:
        lines.add_row(line.get("sku") or "-", line.get("title", ""), str(line.get("quantity", "")),
                      money(line.get("unit_price")), money(line.get("tax")), money(line.get("total")))
    out.print(lines)
    for payment in getattr(order, "payments", None) or []:
        out.print(f"Payment    {payment.get('id')} {payment.get('status')} {money(payment.get('amount'))} "
                  f"({payment.get('method')}) at {_when(payment.get('at'))}", markup=False)
    for note in getattr(order, "notes", None) or []:
        out.print(f"Note       {note.get('body')}  [{_actor(note.get('actor') or {})}, {_when(note.get('at'))}]",
                  markup=False)
    if order.metadata:
        for app_id, values in order.metadata.items():
            out.print(f"Metadata   {app_id}: {values}", markup=False)


def show_timeline(order_id: str, entries: Sequence[TimelineEntry]) -> None:
    table = Table(title=f"Timeline of {order_id}", title_justify="left", box=None, pad_edge=False)
    for column in ("seq", "at", "type", "by", "changes"):
        table.add_column(column)
    for entry in entries:
        changes = ", ".join(f"{field}: {_change(change)}" for field, change in entry.changes.items()
                            if not _from_nothing_to_nothing(change))
        table.add_row(str(entry.sequence), _when(entry.at), entry.type, _actor(entry.actor), changes or "-")
    out.print(table)


def _from_nothing_to_nothing(change: Any) -> bool:
    """A field a new order starts with empty (no tags, nothing refunded): noise in a timeline."""
    if not (isinstance(change, dict) and change.get("from") is None):
        return False
    to = change.get("to")
    return to in (None, [], {}) or (isinstance(to, dict) and to.get("amount") == 0)


def _change(change: Any) -> str:
    if isinstance(change, dict) and {"from", "to"} <= change.keys():
        if change["from"] is None:
            return _short(change["to"])
        return f"{_short(change['from'])} → {_short(change['to'])}"
    return _short(change)


def _short(value: Any) -> str:
    if isinstance(value, dict) and {"amount", "currency"} <= value.keys():
        return money(value)
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"
