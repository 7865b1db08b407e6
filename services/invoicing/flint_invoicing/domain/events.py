"""An event the invoice records: one per change, published on ``flint.invoices.events.v1``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import InvoiceData, build_envelope

SOURCE = "flint.invoicing"
"""The envelope's ``source`` of every event the invoicing service publishes."""


@dataclass(frozen=True)
class InvoiceEvent:
    """``type`` is an ``invoice.*`` constant of ``flint_contracts.event_types``; ``data`` is the
    invoice as it stands after the change."""

    type: str
    merchant_id: str
    at: datetime
    data: InvoiceData

    def envelope(self, **fields: Any) -> EventEnvelope:
        """The event as it goes to the outbox, checked as a consumer would check it."""
        return build_envelope(self.type, self.data, source=SOURCE, merchant_id=self.merchant_id, time=self.at, **fields)
