"""``python -m flint_installs``: the API and the outbox relay in one process, on
FLINT_INSTALLS_PORT (8101). A dependency that cannot be reached at start-up ends the
process with one line naming it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn

from flint_chassis.cli import run_or_exit
from flint_chassis.logs import configure_logging
from flint_installs.app import create_app
from flint_installs.config import InstallsSettings


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has shut down, which would end the process
    before the runtime stops (relay, pool). Forget the signal: ``serve`` then returns and the
    service stops in order, exiting 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def serve(settings: InstallsSettings) -> None:
    app = create_app(settings, manage_lifespan=False)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, lifespan="off",
                            server_header=False, proxy_headers=False)
    async with app.state.installs.running():
        await _Server(config).serve()


def main() -> None:
    settings = InstallsSettings()
    configure_logging("installs", settings.log_level)
    run_or_exit(serve(settings))


if __name__ == "__main__":
    main()
