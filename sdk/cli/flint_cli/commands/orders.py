"""``flint orders get|list|timeline``: the order record as your installed app reads it
(``--as merchant`` reads it with the profile's merchant instead)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import typer

from flint_cli import output, views
from flint_cli.state import session
from flint_sdk import FlintClient, Order, Page

app = typer.Typer(help="Read orders (with the installed app's token, or --as merchant).", no_args_is_help=True)


class Caller(str, Enum):
    app = "app"
    merchant = "merchant"


AsOption = Annotated[Caller, typer.Option("--as", help="Whose token: the installed app's, or the merchant's.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OrderId = Annotated[str, typer.Argument(help="The order id (ord_…).")]


@app.command()
def get(ctx: typer.Context, order_id: OrderId, caller: AsOption = Caller.app, as_json: JsonOption = False) -> None:
    """One order: amounts, payment state, customer, line items, tags and notes."""
    with session(ctx).client_as(caller.value) as client:
        order = client.orders.get(order_id)
    if as_json:
        output.print_json(order)
    else:
        views.show_order(order)


def _moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time (a date alone is midnight UTC; a time without a zone is UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or time (2026-01-31 or "
                                 "2026-01-31T12:00:00+01:00)", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("list")
def list_(ctx: typer.Context,
          status: Annotated[str | None, typer.Option(help="open, completed or canceled.")] = None,
          payment_status: Annotated[str | None, typer.Option(
              help="unpaid, partially_paid, paid, partially_refunded, refunded or voided.")] = None,
          customer_email: Annotated[str | None, typer.Option(help="The customer's email (any case).")] = None,
          tag: Annotated[str | None, typer.Option(help="Orders carrying this tag.")] = None,
          created_gte: Annotated[str | None, typer.Option(help="Created at or after (ISO 8601).")] = None,
          created_lt: Annotated[str | None, typer.Option(help="Created before (ISO 8601).")] = None,
          limit: Annotated[int | None, typer.Option(min=1, max=100, help="Page size (the API's default: 20).")]
          = None,
          starting_after: Annotated[str | None, typer.Option(
              help="The cursor a previous page printed, for the next page.")] = None,
          every: Annotated[bool, typer.Option("--all", help="Every page, not just the first.")] = False,
          caller: AsOption = Caller.app, as_json: JsonOption = False) -> None:
    """Orders, newest first, one page at a time (or --all)."""
    filters: dict[str, Any] = {
        "status": status, "payment_status": payment_status, "customer_email": customer_email, "tag": tag,
        "created_gte": _moment(created_gte, "--created-gte"), "created_lt": _moment(created_lt, "--created-lt"),
        "limit": limit, "starting_after": starting_after,
    }
    filters = {name: value for name, value in filters.items() if value is not None}
    with session(ctx).client_as(caller.value) as client:
        page = _every_page(client, filters) if every else client.orders.list(**filters)
    if as_json:
        output.print_json(page)
        return
    views.show_orders(page.data)
    if page.has_more and page.next_cursor:
        output.note(f"More orders: add --starting-after {page.next_cursor} (or --all).")


def _every_page(client: FlintClient, filters: dict[str, Any]) -> Page[Order]:
    filters.pop("starting_after", None)
    return Page[Order](data=list(client.orders.iterate(**filters)), has_more=False)


@app.command()
def timeline(ctx: typer.Context, order_id: OrderId, caller: AsOption = Caller.app, as_json: JsonOption = False) -> None:
    """Every change of an order, in sequence: what changed, who did it, when."""
    with session(ctx).client_as(caller.value) as client:
        entries = list(client.orders.iterate_timeline(order_id))
    if as_json:
        output.print_json(entries)
    else:
        views.show_timeline(order_id, entries)
