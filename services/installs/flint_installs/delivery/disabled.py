"""``webhook_endpoint.disabled``: the app learns that Flint stopped sending to an endpoint.

The dispatcher calls :func:`announce_disabled` in the transaction that disables the endpoint,
so the event is in the outbox exactly when the endpoint is disabled. It travels on
``flint.installs.events.v1`` (keyed by the install) like every install event, and the router
takes it to the app's topic, its event feed and the install's other enabled endpoints.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from flint_chassis import outbox
from flint_contracts.event_types import WEBHOOK_ENDPOINT_DISABLED
from flint_contracts.events import WebhookEndpointDisabled, build_envelope
from flint_contracts.limits import MAX_REASON_LENGTH
from flint_contracts.topics import INSTALLS_EVENTS
from flint_installs import repository as installs
from flint_installs.delivery import repository
from flint_installs.domain import SOURCE


async def announce_disabled(conn: asyncpg.Connection, endpoint_id: str, now: datetime) -> None:
    endpoint = await repository.get_endpoint(conn, endpoint_id)
    install = await installs.get_install(conn, endpoint.install_id) if endpoint else None
    if endpoint is None or install is None:
        return
    failed, last_delivery_id, last_detail = await repository.failure_run(conn, endpoint_id)
    reason = endpoint.disabled_reason or "every attempt failed"
    if last_detail:
        reason = f"{reason} (last: {last_detail})"
    data = WebhookEndpointDisabled(
        webhook_endpoint_id=endpoint.id, install_id=install.id, app_id=install.app_id,
        merchant_id=install.merchant_id, url=endpoint.url, reason=reason[:MAX_REASON_LENGTH],
        failing_since=endpoint.failing_since or now, failed_attempts=max(failed, 1),
        last_delivery_id=last_delivery_id, disabled_at=now,
    )
    await outbox.enqueue(conn, INSTALLS_EVENTS, build_envelope(WEBHOOK_ENDPOINT_DISABLED, data, source=SOURCE,
                                                               time=now))
