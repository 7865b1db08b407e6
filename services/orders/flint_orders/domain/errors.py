"""Errors the order raises when it refuses a change. Each carries a machine-readable
``code`` and the ``field`` of the input at fault, so the API can answer with both."""

from __future__ import annotations

class DomainError(Exception):
    """A change the order refuses. ``code`` is machine-readable, ``field`` names the input."""

    code = "domain_error"

    def __init__(self, reason: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    """Malformed input: a negative price, a fractional quantity, an empty note."""

    code = "invalid_input"


class TotalsMismatch(InvalidInput):
    """The caller's expected total differs from what the lines add up to."""

    code = "totals_mismatch"


class CurrencyMismatch(DomainError):
    """An amount in another currency than the order's. For a consumed event it never applies."""

    code = "currency_mismatch"


class InvalidTransition(DomainError):
    """The order's status does not allow this (cancel a completed order, complete a canceled one)."""

    code = "invalid_transition"


class RefundRefused(DomainError):
    """A refund that would take more than is left: overall, on a line, on shipping or a payment."""

    code = "refund_refused"


class ConflictingEvent(DomainError):
    """An event that contradicts a final state (a refund that failed, then succeeded)."""

    code = "conflicting_event"

