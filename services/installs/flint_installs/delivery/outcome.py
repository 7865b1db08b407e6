"""What one delivery attempt did, as the delivery log shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class FailureReason(StrEnum):
    """Why an attempt failed. Every failure is retried until the retry window closes."""

    HTTP_STATUS = "http_status"
    """The receiver answered, with a 4xx or 5xx status."""
    REDIRECT = "redirect"
    """The receiver answered 3xx; redirects are never followed (the target was never checked)."""
    TIMEOUT = "timeout"
    """No connection within the connect timeout, or no full answer within the total timeout."""
    CONNECTION_FAILED = "connection_failed"
    """The connection could not be opened: refused, unreachable, or TLS failed."""
    CONNECTION_CLOSED = "connection_closed"
    """The receiver closed or reset the connection before answering."""
    DNS_FAILED = "dns_failed"
    """The host name did not resolve."""
    ADDRESS_REFUSED = "address_refused"
    """The host resolved to an address Flint does not send to (private, loopback, metadata…)."""
    URL_REFUSED = "url_refused"
    """The URL itself is no longer acceptable (e.g. http:// once the development setting is off)."""


@dataclass(frozen=True)
class AttemptResult:
    """One attempt: when, how long, what came back, and whether it counts as delivered."""

    started_at: datetime
    latency_ms: int
    status_code: int | None = None
    response_snippet: str = ""
    reason: FailureReason | None = None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        """A 2xx answer, and only that."""
        return self.reason is None
