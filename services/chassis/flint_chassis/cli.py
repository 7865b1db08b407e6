"""Entry-point helpers: a start-up failure prints one line, not a stack trace."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from flint_chassis.errors import StartupError


def run_or_exit(main: Coroutine[Any, Any, Any], *, runner: Callable[[Any], Any] = asyncio.run) -> Any:
    try:
        return runner(main)
    except StartupError as error:
        print(f"flint: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
