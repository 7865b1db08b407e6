"""The ``flint`` entry point: runs a command and turns every failure into one line.

Typer parses the arguments (``standalone_mode=False``, so its errors come back here instead
of being drawn as a box); :func:`flint_cli.failures.describe` words everything else.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer
from rich.markup import escape

from flint_cli import output
from flint_cli.app import app
from flint_cli.failures import INTERRUPTED, USAGE, describe


def main(argv: list[str] | None = None) -> int:
    """Runs ``flint`` with ``argv`` (default: the process's); returns the exit status."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="flint", standalone_mode=False)
    except typer.TyperException as error:  # bad or missing arguments, unknown commands and options
        if not error.format_message().strip():  # a group called without a command: its help was shown
            return USAGE
        return _fail(_usage_line(error), getattr(error, "exit_code", USAGE))
    except (KeyboardInterrupt, typer.Abort):
        output.err.print("interrupted")
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001 - each failure is one line, never a traceback
        if os.environ.get("FLINT_DEBUG"):
            traceback.print_exc()
        return _fail(*describe(error))
    return result if isinstance(result, int) else 0


def _usage_line(error: typer.TyperException) -> str:
    line = error.format_message()
    context = getattr(error, "ctx", None)
    if context is not None:
        line += f" (see `{context.command_path} --help`)"
    return line


def _fail(line: str, exit_code: int) -> int:
    output.err.print(f"[bold red]flint:[/] {escape(line)}")
    return exit_code or 1


if __name__ == "__main__":
    sys.exit(main())
