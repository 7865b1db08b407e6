"""An order's timeline as a narrow, readable table: one line per change, saying in words what
changed (`flint orders timeline` prints every changed field; a demo needs the gist)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from flint_cli.output import out
from flint_sdk import Money, TimelineEntry

_MONEY_FIELDS = {"amounts.captured": "captured", "amounts.refunded": "refunded", "amounts.balance_due": "due"}


def show(title: str, entries: Sequence[TimelineEntry], apps: dict[str, str]) -> None:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in ("seq", "time", "type", "by", "what"):
        table.add_column(column, no_wrap=column != "what")
    for entry in entries:
        table.add_row(str(entry.sequence), entry.at.strftime("%H:%M:%S"), entry.type, _by(entry.actor, apps),
                      _what(entry))
    out.print(table)


def _by(actor: dict[str, Any], apps: dict[str, str]) -> str:
    kind, who = actor.get("type", "?"), actor.get("id")
    return apps.get(who or "", kind) if kind == "app" else kind


def _what(entry: TimelineEntry) -> str:
    changes = entry.changes
    parts = []
    if (status := changes.get("payment_status")) and status.get("from"):
        parts.append(f"{status['from']} → {status['to']}")
    for field, label in _MONEY_FIELDS.items():
        if (change := changes.get(field)) and change.get("from") and change["from"] != change["to"]:
            parts.append(f"{label} {_money(change['to'])}")
    for field, change in changes.items():
        if field.startswith("notes."):
            parts.append(f"note: {_short(str(change.get('to')))}")
        elif field.startswith("invoices.") and field.endswith(".status"):
            parts.append(f"invoice {change.get('to')}")
        elif field.startswith("metadata."):
            parts.append(f"metadata: {', '.join(sorted(change.get('to') or {}))}")
    if entry.type == "order.created" and (due := changes.get("amounts.balance_due")):
        parts.append(f"{changes.get('payment_status', {}).get('to')}, due {_money(due.get('to'))}")
    return "; ".join(parts) or "-"


def _money(value: Any) -> str:
    if isinstance(value, dict) and "amount" in value:
        money = Money.model_validate(value)
        return f"{money.to_decimal()} {money.currency}"
    return str(value)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
