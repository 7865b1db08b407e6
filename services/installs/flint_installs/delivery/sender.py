"""The webhook sender: one signed POST of one event to one endpoint, and what came of it.

Built on httpcore with :class:`GuardedNetworkBackend`, so every connection goes to an
address checked at that moment. httpcore follows no redirects and reads no proxy settings
from the environment: a proxy would connect to the receiver for us, past the address check.
The sender never raises for what a receiver does; every outcome is an :class:`AttemptResult`.
"""

from __future__ import annotations

import asyncio
import codecs
import itertools
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpcore

from flint_chassis.tracing import TRACEPARENT
from flint_contracts.text import replace_unsafe_text
from flint_contracts.webhooks import DELIVERY_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.connect import GuardedNetworkBackend
from flint_installs.delivery.outcome import AttemptResult, FailureReason
from flint_installs.delivery.resolver import Resolver, SystemResolver
from flint_installs.delivery.url_policy import (
    URL_ADDRESS,
    URL_UNRESOLVABLE,
    EndpointUrl,
    UrlRefused,
    parse_endpoint_url,
)

USER_AGENT = "Flint-Webhooks/1"


@dataclass(frozen=True)
class WebhookMessage:
    """One event for one endpoint: the exact body to sign and send, and who it is."""

    url: str
    body: bytes
    event_id: str
    event_type: str
    delivery_id: str
    secrets: tuple[str, ...]  # every active secret of the endpoint: one v1 signature each
    traceparent: str | None = None  # sent as the W3C ``traceparent`` header, so a receiver may continue the trace


# httpcore looks at every connection of a pool, idle ones against each other, whenever a
# request starts or ends: quadratic in the pool's size. Small pools taken in turn keep that
# cost flat (50 attempts in flight through one pool spent half the sender's CPU there).
CONNECTIONS_PER_POOL = 8


class WebhookSender:
    """Sends webhooks; one per process, shared by every delivery (it pools connections)."""

    def __init__(self, settings: DeliverySettings, *, resolver: Resolver | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        resolver = resolver or SystemResolver()
        self._pools = {"https": self._pool_set("https", resolver, ssl_context)}
        if settings.allow_loopback:
            self._pools["http"] = self._pool_set("http", resolver, None)
        self._turn = itertools.count()

    def _pool_set(self, scheme: str, resolver: Resolver,
                  ssl_context: ssl.SSLContext | None) -> list[httpcore.AsyncConnectionPool]:
        backend = GuardedNetworkBackend(resolver, scheme=scheme, allow_loopback=self._settings.allow_loopback)
        count = -(-self._settings.max_connections // CONNECTIONS_PER_POOL)
        per_pool = -(-self._settings.max_connections // count)
        return [httpcore.AsyncConnectionPool(ssl_context=ssl_context, max_connections=per_pool,
                                             keepalive_expiry=self._settings.keepalive_expiry, network_backend=backend)
                for _ in range(count)]

    def _pool(self, scheme: str) -> httpcore.AsyncConnectionPool:
        pools = self._pools[scheme]
        return pools[next(self._turn) % len(pools)]

    async def aclose(self) -> None:
        for pools in self._pools.values():
            for pool in pools:
                await pool.aclose()

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def send(self, message: WebhookMessage, *, timestamp: int | None = None) -> AttemptResult:
        """POST ``message`` once; ``timestamp`` (unix seconds) is what the signature says, now by default."""
        started_at, started = datetime.now(UTC), time.monotonic()
        answer = _Answer()
        try:
            endpoint = parse_endpoint_url(message.url, allow_loopback=self._settings.allow_loopback)
            async with asyncio.timeout(self._settings.total_timeout):
                await self._post(endpoint, message, timestamp, answer)
        except UrlRefused as refused:
            return _failed(started_at, started, _REFUSALS.get(refused.code, FailureReason.URL_REFUSED), str(refused))
        except httpcore.ConnectTimeout:
            return _failed(started_at, started, FailureReason.TIMEOUT,
                           f"no connection within {self._settings.connect_timeout:g}s")
        except (TimeoutError, httpcore.TimeoutException):
            if answer.status is None:
                return _failed(started_at, started, FailureReason.TIMEOUT,
                               f"no answer within {self._settings.total_timeout:g}s")
            # The status arrived; only the rest of the body was slow. The status decides.
        except httpcore.ConnectError as error:
            return _failed(started_at, started, FailureReason.CONNECTION_FAILED, _describe(error))
        except (httpcore.NetworkError, httpcore.RemoteProtocolError) as error:
            if answer.status is None:
                return _failed(started_at, started, FailureReason.CONNECTION_CLOSED, _describe(error))
        return _answered(started_at, started, answer.status, _decode(answer.body))

    async def _post(self, endpoint: EndpointUrl, message: WebhookMessage, timestamp: int | None,
                    answer: _Answer) -> None:
        limit = self._settings.response_snippet_bytes
        timeouts = {"connect": self._settings.connect_timeout, "read": self._settings.total_timeout,
                    "write": self._settings.total_timeout, "pool": self._settings.total_timeout}
        async with self._pool(endpoint.scheme).stream(
            "POST", _url(endpoint), headers=_headers(endpoint, message, timestamp), content=message.body,
            extensions={"timeout": timeouts},
        ) as response:
            answer.status = response.status
            async for chunk in response.aiter_stream():
                answer.body += chunk[: limit - len(answer.body)]
                if len(answer.body) >= limit:
                    break  # leaving the block closes the connection; the rest is never read


class _Answer:
    """What came back so far: kept outside the timeout so a slow body does not hide the status."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.body = bytearray()


_REFUSALS = {URL_ADDRESS: FailureReason.ADDRESS_REFUSED, URL_UNRESOLVABLE: FailureReason.DNS_FAILED}


def _url(endpoint: EndpointUrl) -> httpcore.URL:
    return httpcore.URL(scheme=endpoint.scheme.encode(), host=endpoint.host.encode(), port=endpoint.port,
                        target=endpoint.target.encode())


def _headers(endpoint: EndpointUrl, message: WebhookMessage, timestamp: int | None) -> list[tuple[str, str]]:
    headers = [
        ("Host", endpoint.host_header),
        ("User-Agent", USER_AGENT),
        ("Content-Type", "application/json"),
        (SIGNATURE_HEADER, sign(message.body, message.secrets, timestamp=timestamp)),
        (EVENT_ID_HEADER, message.event_id),
        (EVENT_TYPE_HEADER, message.event_type),
        (DELIVERY_ID_HEADER, message.delivery_id),
    ]
    if message.traceparent:
        headers.append((TRACEPARENT, message.traceparent))
    return headers


def _decode(raw: bytes) -> str:
    """The snippet as storable text: invalid UTF-8 and control characters become U+FFFD, and a
    character the byte limit cut in half is dropped rather than shown broken."""
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(bytes(raw), final=False)
    return replace_unsafe_text(text)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _failed(started_at: datetime, started: float, reason: FailureReason, detail: str) -> AttemptResult:
    return AttemptResult(started_at=started_at, latency_ms=_elapsed_ms(started), reason=reason, detail=detail)


def _answered(started_at: datetime, started: float, status: int, snippet: str) -> AttemptResult:
    if 200 <= status < 300:
        reason, detail = None, ""
    elif 300 <= status < 400:
        reason, detail = FailureReason.REDIRECT, f"answered {status}; redirects are not followed"
    else:
        reason, detail = FailureReason.HTTP_STATUS, f"answered {status}"
    return AttemptResult(started_at=started_at, latency_ms=_elapsed_ms(started), status_code=status,
                         response_snippet=snippet, reason=reason, detail=detail)


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__
