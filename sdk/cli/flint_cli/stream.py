"""The app's own topic (``flint.app.<app_id>.v1``), read through the SDK's ``Plugin`` on the
broker's plugin listener with the app's SCRAM credential, as a plugin reads it.

Each command reads in a consumer group of its own (``<app_id>.cli-tail``,
``<app_id>.cli-listen``), so neither takes events from the app's real consumers (groups are
per name). A group's first run starts at the oldest event the topic holds; later runs go on
after the last event it handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flint_cli import output
from flint_cli.kafka_login import password_for
from flint_cli.failures import INTERRUPTED, USAGE, CliError
from flint_cli.session import Session
from flint_contracts import SCOPES, deliverable_to, event_types
from flint_sdk import Event, Failure, HandlerFailed

if TYPE_CHECKING:
    from flint_sdk import Plugin

CONNECT_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# After Ctrl-C, the consumer stops within STOP_TIMEOUT; should anything else still hold the
# process (a client's task that ignores cancellation, a thread), it ends this much later.
EXIT_GRACE = 20.0


def run(main: Coroutine[object, object, int]) -> int:
    """``asyncio.run(main)`` where Ctrl-C always ends the command: it raises KeyboardInterrupt
    (the work is cancelled and the consumer stopped, see :func:`consume`), and if the process
    is still there ``EXIT_GRACE`` seconds later it exits with 130 all the same."""

    def interrupted(signum: int, frame: object) -> None:
        watchdog = threading.Timer(EXIT_GRACE, os._exit, args=(INTERRUPTED,))
        watchdog.daemon = True
        watchdog.start()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts the clean-up
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        return asyncio.run(main)
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class KafkaLogin:
    app_id: str
    bootstrap: str
    password: str


def kafka_login(session: Session, bootstrap: str | None, password: str | None) -> KafkaLogin:
    """The app's credential: options, else ``FLINT_KAFKA_PLUGIN_BOOTSTRAP`` /
    ``FLINT_KAFKA_PASSWORD``, else the profile, else the stack's ``stack.env`` (listener only);
    with no password anywhere, the app's credential asked of Flint (:mod:`flint_cli.kafka_login`)."""
    app = session.app()
    stored = session.profile.kafka
    secret = password or session.setting("FLINT_KAFKA_PASSWORD", stored=stored.password)
    if not secret:
        secret, made_for = password_for(session)
        bootstrap = bootstrap or made_for
    address = session.setting("FLINT_KAFKA_PLUGIN_BOOTSTRAP", bootstrap, stored.bootstrap)
    if not address:
        raise CliError("the broker's plugin listener is unknown: pass --bootstrap HOST:PORT, set "
                       "FLINT_KAFKA_PLUGIN_BOOTSTRAP, or run inside the checkout whose stack is up")
    if not secret:
        raise CliError(f"no Kafka password for app {app.id}: pass --kafka-password (or set FLINT_KAFKA_PASSWORD), "
                       "or keep it with `flint profile set kafka-password VALUE`")
    return KafkaLogin(app.id, address, secret)


def event_types_of(chosen: Collection[str]) -> list[str]:
    """The types to show: those named (each checked), else every type a plugin can receive."""
    if not chosen:
        return sorted(deliverable_to(SCOPES))
    for type_ in chosen:
        try:
            event_types.get(type_)
        except KeyError:
            raise CliError(f"unknown event type {type_!r}; e.g. order.paid, refund.succeeded", USAGE) from None
    return list(dict.fromkeys(chosen))


async def consume(login: KafkaLogin, group: str, types: list[str], handle: Callable[[Event], Awaitable[None]],
                  *, count: int | None = None, on_ready: Callable[[Plugin], None] | None = None) -> int:
    """Hands each event of ``types`` to ``handle`` until ``count`` were handled (or forever);
    returns how many were. A message that is not a Flint event is reported and passed over."""
    handled = 0
    enough = asyncio.Event()

    async def on_event(event: Event) -> None:
        nonlocal handled
        if enough.is_set():
            raise _Later()
        await handle(event)
        handled += 1
        if count is not None and handled >= count:
            enough.set()

    from flint_sdk import Plugin  # FastStream and aiokafka: imported only by the commands that read Kafka

    plugin = Plugin(login.app_id, login.password, login.bootstrap, name=group, attempts=1, on_failure="skip",
                    on_skip=_report_skipped, graceful_timeout=5.0)
    plugin.on(*types)(on_event)
    with _silenced_clients() as client_errors:
        return await _consume_until_done(plugin, login, client_errors, enough, on_ready, lambda: handled)


async def _consume_until_done(plugin: Plugin, login: KafkaLogin, client_errors: _ClientErrors, enough: asyncio.Event,
                              on_ready: Callable[[Plugin], None] | None, handled: Callable[[], int]) -> int:
    try:
        await asyncio.wait_for(plugin.start(), CONNECT_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - aiokafka raises many kinds; each becomes one line
        await _stop_quietly(plugin)
        reason = _reason(error, client_errors.lines)
        raise CliError(f"cannot read {plugin.topic} on {login.bootstrap} as {login.app_id}: {reason}") from None
    try:
        if on_ready is not None:
            on_ready(plugin)
        stopped = asyncio.ensure_future(plugin.wait())
        done = asyncio.ensure_future(enough.wait())
        await asyncio.wait({stopped, done}, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopped, done):
            task.cancel()
        failed = stopped.exception() if stopped.done() and not stopped.cancelled() else None
        if isinstance(failed, HandlerFailed) and not isinstance(failed.failure.error, _Later):
            raise CliError(f"stopped: {failed}")
    finally:
        await _stop_quietly(plugin)
    return handled()


class _Later(Exception):
    """Raised for an event past ``--count`` (read before the consumer stopped)."""


def _report_skipped(failure: Failure) -> None:
    """A message that is not a Flint event is shown and passed over. An event past ``--count``
    is refused here, which stops the plugin without committing it: the next run gets it."""
    if isinstance(failure.error, _Later):
        raise failure.error
    output.note(f"passed over partition {failure.partition} offset {failure.offset}: {failure.error}")


async def _stop_quietly(plugin: Plugin) -> None:
    """Disconnects, within ``STOP_TIMEOUT``: Ctrl-C must end the command even when the broker
    keeps the consumer waiting (a group rebalancing, a broker that went away)."""
    try:
        await asyncio.wait_for(plugin.stop(), STOP_TIMEOUT)
    except Exception:  # noqa: BLE001, S110 - already failing, done or slow; the first error is what matters
        pass


def _reason(error: BaseException, client_errors: list[str]) -> str:
    """Why the connection failed: aiokafka raises "Unable to bootstrap" for a refused login and
    for a closed port alike, and logs the real cause just before."""
    if isinstance(error, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:.0f}s (is the stack up, and is this the plugin listener?)"
    if any("SaslAuthenticationFailed" in line for line in client_errors):
        return "the broker refused the login (invalid credentials); check the app's Kafka password"
    cause = client_errors[-1] if client_errors else str(error) or type(error).__name__
    return f"{cause} (is the stack up, and is this the plugin listener?)"


class _ClientErrors(logging.Handler):
    """Keeps the Kafka client's error lines, which say why a connection failed, unprinted."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _silenced_clients() -> Iterator[_ClientErrors]:
    """FastStream and aiokafka log to stdout and stderr, among the events (``--json`` output must
    stay one event per line); every failure reaches the user as the CLI's own error line.
    Logging is as it was afterwards (the CLI also runs inside other programs and tests)."""
    disabled_before = logging.root.manager.disable
    logging.disable(logging.WARNING)
    errors = _ClientErrors()
    client = logging.getLogger("aiokafka")
    client.addHandler(errors)
    propagated = client.propagate
    client.propagate = False
    chatty = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
              if name.split(".")[0] in ("faststream", "flint_sdk") and not logging.getLogger(name).disabled]
    for logger in chatty:
        logger.disabled = True
    try:
        yield errors
    finally:
        for logger in chatty:
            logger.disabled = False
        client.propagate = propagated
        client.removeHandler(errors)
        logging.disable(disabled_before)
