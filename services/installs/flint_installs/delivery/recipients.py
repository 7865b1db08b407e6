"""Who receives an event: the routing rules, pure (the router loads installs and applies them).

- An order, refund or invoice event goes to every active install of the event's merchant
  whose scopes allow its type (``flint_contracts.event_types.deliverable_to``:
  ``orders:read`` → ``order.*``, ``refunds:read`` → ``refund.*``, ``invoices:read`` →
  ``invoice.*``). Internal types (payments, commands) are never deliverable.
- An event about an install (``install.*``, ``webhook_endpoint.disabled``) goes to that
  install's app only, whatever its scopes: it is about the app's own install, never another
  app's. ``install.uninstalled`` still reaches the app's topic and feed, as the last event of
  that install; no webhook carries it, because the install's endpoints stop with it.
- An install receives events that happened from its creation on: an app installed today does
  not get last month's orders when the router catches up, and neither does a router deployed
  for the first time over topics that hold 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope

ABOUT_AN_INSTALL = frozenset({
    types.INSTALL_CREATED, types.INSTALL_SCOPES_UPDATED, types.INSTALL_UNINSTALLED, types.WEBHOOK_ENDPOINT_DISABLED,
})


@dataclass(frozen=True)
class Recipient:
    """An install as routing sees it."""

    install_id: str
    app_id: str
    merchant_id: str
    scopes: tuple[str, ...]
    active: bool
    created_at: datetime
    endpoint_ids: tuple[str, ...] = ()  # its enabled webhook endpoints


@dataclass(frozen=True)
class Route:
    """Deliver to ``recipient``: its app's topic and feed, and its webhooks when ``webhooks``."""

    recipient: Recipient
    webhooks: bool


def install_of(envelope: EventEnvelope) -> str | None:
    """The install an install event is about (its data names it), else None."""
    if envelope.type not in ABOUT_AN_INSTALL:
        return None
    install_id = envelope.data.get("install_id")
    return install_id if isinstance(install_id, str) else None


def routes(envelope: EventEnvelope, candidates: list[Recipient]) -> list[Route]:
    """Where ``envelope`` goes among ``candidates`` (the merchant's active installs, or the one
    install an install event is about), in the order given."""
    if not types.get(envelope.type).deliverable or envelope.merchant_id is None:
        return []
    found = []
    for recipient in candidates:
        if recipient.merchant_id != envelope.merchant_id or envelope.time < recipient.created_at:
            continue
        if envelope.type in ABOUT_AN_INSTALL:
            if recipient.install_id != install_of(envelope):
                continue
            if recipient.active or envelope.type == types.INSTALL_UNINSTALLED:
                found.append(Route(recipient, webhooks=recipient.active))
        elif recipient.active and envelope.type in types.deliverable_to(recipient.scopes):
            found.append(Route(recipient, webhooks=True))
    return found
