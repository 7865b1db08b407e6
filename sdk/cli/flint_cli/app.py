"""The ``flint`` command tree. Each group lives in :mod:`flint_cli.commands`."""

from __future__ import annotations

from typing import Annotated

import typer

from flint_cli.commands import apps, dev, events, install, listen, merchants, orders, profile, trigger
from flint_cli.profile import DEFAULT
from flint_cli.state import SessionHolder

app = typer.Typer(
    name="flint",
    help="Flint for plugin developers: the local stack, your app, its install, orders and events.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


@app.callback()
def root(ctx: typer.Context,
         profile_name: Annotated[str, typer.Option(
             "--profile", envvar="FLINT_PROFILE", help="Which saved profile (stack, app, tokens) to use.")] = DEFAULT,
         ) -> None:
    ctx.obj = SessionHolder(profile_name)


app.add_typer(dev.app, name="dev")
app.add_typer(merchants.app, name="merchants")
app.add_typer(apps.app, name="apps")
app.command("install")(install.install)
app.add_typer(orders.app, name="orders")
app.command("trigger")(trigger.trigger)
app.add_typer(events.app, name="events")
app.command("listen")(listen.listen)
app.add_typer(profile.app, name="profile")
