"""``flint trigger <scenario>``: make something happen on the stack (:mod:`flint_cli.triggers`)."""

from __future__ import annotations

from typing import Annotated

import typer

from flint_cli import output
from flint_cli.failures import USAGE, CliError
from flint_cli.state import session
from flint_cli.triggers import SCENARIOS, TriggerContext
from flint_cli.triggers.sandbox import Sandbox


def _scenarios_help() -> str:
    return "; ".join(f"{name}: {scenario.summary}" for name, scenario in SCENARIOS.items())


def trigger(ctx: typer.Context,
            scenario: Annotated[str, typer.Argument(help=f"What to make happen. {_scenarios_help()}.")],
            wait: Annotated[float, typer.Option(
                "--wait", min=1, help="Seconds to wait for the services to act on it.")] = 30,
            as_json: Annotated[bool, typer.Option("--json", help="Print what was made as JSON.")] = False) -> None:
    """Make something happen as a merchant and a buyer would, with the merchant of the profile."""
    chosen = SCENARIOS.get(scenario)
    if chosen is None:
        raise CliError(f"no scenario {scenario!r}; there are: {', '.join(SCENARIOS)}", USAGE)
    current = session(ctx)
    with current.merchant_client() as merchant:
        made = chosen.run(TriggerContext(current, merchant, Sandbox(current), wait, quiet=as_json))
    if as_json:
        output.print_json(made)
