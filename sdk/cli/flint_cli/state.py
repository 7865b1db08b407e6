"""The session a command works with, made when the command first asks for it (``flint dev``
never reads a profile, so a broken one cannot stop the stack from starting)."""

from __future__ import annotations

import typer

from flint_cli.session import Session


class SessionHolder:
    def __init__(self, profile_name: str) -> None:
        self.profile_name = profile_name
        self._session: Session | None = None

    def get(self) -> Session:
        if self._session is None:
            self._session = Session(self.profile_name)
        return self._session


def session(ctx: typer.Context) -> Session:
    """The session of the running command."""
    holder = ctx.find_object(SessionHolder)
    assert holder is not None, "the root callback sets it"
    return holder.get()
