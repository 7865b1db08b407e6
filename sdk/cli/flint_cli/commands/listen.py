"""``flint listen --forward-to URL``: the app's events as signed webhooks to a local server,
like ``stripe listen``, so a webhook handler can be built before Flint can reach it.

Each event is POSTed as Flint's sender posts it: the envelope as the JSON body,
``Flint-Signature`` (HMAC-SHA256 of ``"<t>.<body>"`` with the CLI's secret, verified by
``flint_sdk.verify``), ``Flint-Event-Id``, ``Flint-Event-Type`` and a new ``Flint-Delivery-Id``.
The secret (``whsec_…``) is made once per profile and printed; ``--print-secret`` prints it
alone. A delivery that fails is shown and not retried: the CLI is a window onto the events,
the real sender is the one that retries.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import httpx
import typer

from flint_cli import output, stream
from flint_cli.commands.events import BootstrapOption, CountOption, PasswordOption, TypeOption, group_option
from flint_cli.failures import USAGE, CliError
from flint_cli.session import Session
from flint_cli.state import session
from flint_contracts.ids import new_id
from flint_contracts.webhooks import new_secret
from flint_sdk import DELIVERY_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, Event, sign

if TYPE_CHECKING:
    from flint_sdk import Plugin

FORWARD_TIMEOUT = httpx.Timeout(10.0, connect=2.0)  # as Flint's sender


def signing_secret(current: Session) -> str:
    """The profile's forwarding secret, made (and saved) the first time."""
    if current.profile.webhook_secret is None:
        current.profile.webhook_secret = new_secret()
        current.save()
    return current.profile.webhook_secret


def listen(ctx: typer.Context,
           forward_to: Annotated[str | None, typer.Option(
               "--forward-to", help="The local URL to POST each event to, e.g. http://127.0.0.1:3000/webhooks.")]
           = None,
           print_secret: Annotated[bool, typer.Option(
               "--print-secret", help="Print the signing secret and exit.")] = False,
           type_: TypeOption = None, count: CountOption = None,
           group: Annotated[str, group_option("cli-listen")] = "cli-listen",
           bootstrap: BootstrapOption = None, kafka_password: PasswordOption = None,
           as_json: Annotated[bool, typer.Option(
               "--json", help="One JSON line per delivery: event, type, status, milliseconds.")] = False) -> None:
    """Forward the app's events to a local URL, signed like Flint's webhooks (Ctrl-C stops)."""
    current = session(ctx)
    if print_secret:
        output.out.print(signing_secret(current), markup=False)
        return
    if forward_to is None:
        raise CliError("missing --forward-to URL (e.g. --forward-to http://127.0.0.1:3000/webhooks)", USAGE)
    _check_url(forward_to)
    types = stream.event_types_of(type_ or [])
    login = stream.kafka_login(current, bootstrap, kafka_password)
    secret = signing_secret(current)
    stream.run(_forward_all(login, group, types, forward_to, secret, count, as_json))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--forward-to {url!r} is not an http(s) URL", USAGE)


async def _forward_all(login: stream.KafkaLogin, group: str, types: list[str], url: str, secret: str,
                       count: int | None, as_json: bool) -> None:
    async with httpx.AsyncClient(timeout=FORWARD_TIMEOUT) as http:
        async def forward(event: Event) -> None:
            _show(event, url, *await _forward(http, url, secret, event), as_json)

        def ready(plugin: Plugin) -> None:
            output.note(f"Forwarding {plugin.topic} to {url} (group {plugin.group_id}; Ctrl-C to stop).")
            output.note(f"Webhook signing secret: {secret}")

        await stream.consume(login, group, types, forward, count=count, on_ready=ready)


async def _forward(http: httpx.AsyncClient, url: str, secret: str, event: Event) -> tuple[int | None, str, float]:
    """POSTs one event; its status (None when no answer came), how that reads, milliseconds."""
    body = event.envelope.to_bytes()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, [secret]),
               EVENT_ID_HEADER: event.id, EVENT_TYPE_HEADER: event.type, DELIVERY_ID_HEADER: new_id("dlv")}
    started = time.monotonic()
    try:
        response = await http.post(url, content=body, headers=headers)
        status, outcome = response.status_code, f"[{response.status_code}]"
    except httpx.HTTPError as error:
        status, outcome = None, f"[failed: {type(error).__name__}]"
    return status, outcome, (time.monotonic() - started) * 1000


def _show(event: Event, url: str, status: int | None, outcome: str, elapsed: float, as_json: bool) -> None:
    if as_json:
        output.print_json_line({"event_id": event.id, "type": event.type, "subject": event.subject, "url": url,
                                "status": status, "outcome": outcome.strip("[]"), "ms": round(elapsed)})
    else:
        output.out.print(f"{event.type:<26} {event.id}  → POST {url} {outcome} {elapsed:.0f} ms", markup=False)
