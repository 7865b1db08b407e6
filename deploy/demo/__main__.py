"""``python -m deploy.demo install | run`` (deploy/stack.py runs both during `make up`):

- ``install``: the demo merchant and the example plugins' apps, installed through OAuth with
  PKCE, each with its Kafka credential (deploy/demo/installing.py);
- ``run``: the narrated demo (deploy/demo/story.py).

It reads the stack's settings from the environment (stack.py passes .flint/stack.env).
"""

from __future__ import annotations

import os
import sys

import httpx

from deploy.demo import installing, story
from flint_sdk import FlintError


def _stack_settings() -> None:
    """Run by hand (`make demo`), it reads the stack's settings from its stack.env."""
    path = installing.STATE / "stack.env"
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                name, value = line.split("=", 1)
                os.environ.setdefault(name, value)


def main(argv: list[str]) -> int:
    step = argv[0] if argv else ""
    _stack_settings()
    try:
        if step == "install":
            installing.install_all(story.say)
        elif step == "run":
            story.say("\n── The demo ──")
            story.run()
        else:
            print("usage: python -m deploy.demo install|run", file=sys.stderr)
            return 2
    except (story.DemoFailed, FlintError, httpx.HTTPError, RuntimeError, OSError) as error:
        print(f"demo: {step} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
