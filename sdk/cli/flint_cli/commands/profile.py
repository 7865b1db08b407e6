"""``flint profile show|set``: what the CLI keeps, and the values you give it by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import typer

from flint_cli import output
from flint_cli.failures import CliError
from flint_cli.state import session

app = typer.Typer(help="The saved profile: stack URL, merchant, app, tokens, Kafka credential.", no_args_is_help=True)


class Setting(str, Enum):
    installs_url = "installs-url"
    kafka_bootstrap = "kafka-bootstrap"
    kafka_password = "kafka-password"


def _hidden(value: str | None) -> str | None:
    return None if value is None else value[:6] + "…"


@app.command()
def show(ctx: typer.Context,
         reveal: Annotated[bool, typer.Option("--reveal", help="Show secrets in full.")] = False,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The profile, secrets shortened unless --reveal."""
    current = session(ctx)
    if not current.store.exists():
        raise CliError(f"no profile {current.store.name!r} yet ({current.store.path}): "
                       "`flint merchants create` and `flint apps create` make it")
    document: dict[str, Any] = current.profile.model_dump(mode="json", exclude_none=True)
    if not reveal:
        _shorten(document, ("merchant", "secret_key"), ("app", "client_secret"), ("tokens", "access_token"),
                 ("tokens", "refresh_token"), ("kafka", "password"), ("webhook_secret",))
    document = {"profile": current.store.name, "path": str(current.store.path), **document}
    if as_json:
        output.print_json(document)
        return
    for key, value in _flat(document):
        output.out.print(f"{key:<22} {value}", markup=False)


def _flat(document: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``app.id  app_…`` lines; lists joined by spaces, times readable."""
    lines: list[tuple[str, Any]] = []
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += _flat(value, f"{name}.")
        elif isinstance(value, list):
            lines.append((name, " ".join(map(str, value))))
        elif key in ("expires_at", "updated_at") and isinstance(value, int | float):
            lines.append((name, datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")))
        else:
            lines.append((name, value))
    return lines


def _shorten(document: dict[str, Any], *paths: tuple[str, ...]) -> None:
    for path in paths:
        holder = document
        for key in path[:-1]:
            holder = holder.get(key) or {}
        if path[-1] in holder:
            holder[path[-1]] = _hidden(holder[path[-1]])


@app.command("set")
def set_(ctx: typer.Context, setting: Annotated[Setting, typer.Argument(help="What to set.")],
         value: Annotated[str, typer.Argument(help="Its value.")]) -> None:
    """Keep a value in the profile: the installs URL, or the app's Kafka listener and password."""
    current = session(ctx)
    if setting is Setting.installs_url:
        current.profile.installs_url = value.rstrip("/")
    elif setting is Setting.kafka_bootstrap:
        current.profile.kafka.bootstrap = value
    else:
        current.profile.kafka.password = value
    current.save()
    output.out.print(f"Saved {setting.value} in profile {current.store.name!r}.", markup=False)
