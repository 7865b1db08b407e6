"""Which timeline types an order has, and which of them are published. The names and labels
live in ``flint_contracts.timeline`` (plugins read them in every order event); this module
only gives the domain the sets it checks against."""

from __future__ import annotations

from flint_contracts.timeline import (
    EVENT_REJECTED,
    INVOICE_TIMELINE_TYPES,
    ORDER_EVENT_TYPES,
    TIMELINE_ONLY_TYPES,
    TIMELINE_TYPES,
)

INVOICE_EVENT_TYPES = INVOICE_TIMELINE_TYPES

__all__ = ["EVENT_REJECTED", "INVOICE_EVENT_TYPES", "ORDER_EVENT_TYPES", "TIMELINE_ONLY_TYPES", "TIMELINE_TYPES"]
