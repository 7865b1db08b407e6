"""``flint events tail``: the app's own topic, event by event, as the app's plugin sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flint_cli import output, stream
from flint_cli.state import session
from flint_sdk import Event

if TYPE_CHECKING:
    from flint_sdk import Plugin

app = typer.Typer(help="The app's events (its own Kafka topic, with its own credential).", no_args_is_help=True)

BootstrapOption = Annotated[str | None, typer.Option(
    "--bootstrap", help="The broker's plugin listener, HOST:PORT (default: the stack's).")]
PasswordOption = Annotated[str | None, typer.Option(
    "--kafka-password", help="The app's Kafka password (default: FLINT_KAFKA_PASSWORD, then the profile's).")]
TypeOption = Annotated[list[str] | None, typer.Option("--type", help="Only this event type (repeat it).")]
CountOption = Annotated[int | None, typer.Option("--count", min=1, help="Stop after this many events.")]


def group_option(default: str) -> typer.models.OptionInfo:
    return typer.Option(help=f"Consumer group name, after the app id (default {default}); each group reads every "
                             "event once and goes on where it stopped.", show_default=False)


@app.command()
def tail(ctx: typer.Context, type_: TypeOption = None, count: CountOption = None,
         group: Annotated[str, group_option("cli-tail")] = "cli-tail",
         bootstrap: BootstrapOption = None, kafka_password: PasswordOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="One event envelope per line, as JSON.")] = False,
         ) -> None:
    """Print the app's events as they arrive (Ctrl-C stops). The first run starts at the oldest
    event the topic holds; each later run goes on after the last event printed."""
    types = stream.event_types_of(type_ or [])
    login = stream.kafka_login(session(ctx), bootstrap, kafka_password)

    async def show(event: Event) -> None:
        if as_json:
            output.print_json_line(event.envelope)
        else:
            output.out.print(f"{event.time:%Y-%m-%d %H:%M:%S}  {event.type:<26} {event.subject or '-':<30} "
                             f"seq {event.sequence if event.sequence is not None else '-':<4} {event.id}",
                             markup=False)

    def ready(plugin: Plugin) -> None:
        output.note(f"Reading {plugin.topic} as group {plugin.group_id} (Ctrl-C to stop).")

    stream.run(stream.consume(login, group, types, show, count=count, on_ready=ready))
