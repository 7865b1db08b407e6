"""``flint dev up|down|status``: the local stack, through ``deploy/stack.py``."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from flint_cli import locations, output, stack
from flint_cli.failures import CliError

app = typer.Typer(help="The local stack: Kafka, PostgreSQL and the Flint services (deploy/stack.py).",
                  no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command()
def up(infra_only: Annotated[bool, typer.Option("--infra-only", help="Only Kafka, PostgreSQL and the mail sink.")]
       = False) -> None:
    """Start what is not running (installs what is missing first with `make setup`)."""
    what = "Kafka, PostgreSQL and the mail sink" if infra_only else "Kafka, PostgreSQL and the Flint services"
    with output.step(f"Starting {what}"):
        run = stack.run("up", *(["--infra-only"] if infra_only else []), echo=True)
        if run.exit_code != 0:
            raise CliError(f"the stack did not start: {run.error_line()}")
    output.note("Next: `flint merchants create NAME`, `flint apps create NAME`, `flint install`.")


@app.command()
def down() -> None:
    """Stop everything `flint dev up` started (data stays under .flint/)."""
    with output.step("Stopping the stack"):
        run = stack.run("down", echo=True)
        if run.exit_code != 0:
            raise CliError(f"the stack did not stop: {run.error_line()}")


@app.command()
def status(as_json: JsonOption = False) -> int:
    """What runs, on which ports; exits non-zero when something that should run does not."""
    run = stack.run("status")
    if run.exit_code not in (0, 3) and not run.stdout:
        raise CliError(f"cannot read the stack's status: {run.error_line()}")
    if as_json:
        output.print_json(_status_document(run))
    else:
        output.out.print(run.stdout.rstrip("\n"), markup=False)
    return run.exit_code


def _status_document(run: stack.StackRun) -> dict[str, object]:
    """The launcher's verdict and table, and each service of stack.env asked for its /readyz."""
    env = locations.read_stack_env()
    urls = {name.removeprefix("FLINT_").removesuffix("_URL").lower(): url
            for name, url in env.items() if name.startswith("FLINT_") and name.endswith("_URL")}
    return {
        "healthy": run.exit_code == 0,
        "exit_code": run.exit_code,
        "services": {name: {"url": url, "ready": _ready(url)} for name, url in sorted(urls.items())},
        "kafka_plugin_bootstrap": env.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"),
        "table": run.stdout.rstrip("\n").splitlines(),
    }


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False
