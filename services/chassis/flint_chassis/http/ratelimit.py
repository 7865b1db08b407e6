"""Rate limits per token: a token bucket per (token, kind of call), in memory per process.

Each token (its ``jti``) has two buckets: one for calls that read (GET, the ``*:read``
scopes) and one for calls that change something (the ``*:write`` scopes). A bucket holds
``burst`` requests and refills at ``per_second``; a request takes one. An empty bucket is a
429 ``rate_limited`` with ``Retry-After`` (seconds until one request is available). Every
answer to a token-authenticated call carries ``RateLimit-Limit`` (the burst),
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the bucket is full again),
so SDKs can slow down before they are refused. Admin-key and health routes have no token
and are not limited.

In memory per process: N replicas allow N times the rate. That is the trade the issue
accepted for a check that costs a dict lookup on the hottest read path.

Hand-written rather than from a library: ``limits`` offers fixed and sliding windows (no
token bucket), ``aiolimiter`` waits instead of refusing, ``pyrate-limiter`` is a leaky
bucket behind an async backend API; none gives the remaining budget and reset time the
headers need at the cost of one dict lookup.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flint_chassis.problems import RATE_LIMITED, Problem

STATE_KEY = "flint.rate"
READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


def kind_of_call(method: str) -> str:
    """Reads (GET/HEAD) and changes draw from separate buckets."""
    return READ if method in ("GET", "HEAD") else WRITE


class TokenBuckets:
    def __init__(self, rates: dict[str, Rate], *, max_entries: int = 100_000) -> None:
        self._rates = rates
        self._max_entries = max_entries
        self._buckets: dict[tuple[str, str], list[float]] = {}  # key -> [tokens, updated at]

    def take(self, token_id: str, kind: str) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Takes one request from the bucket: (allowed, the RateLimit-* headers to send)."""
        rate = self._rates[kind]
        now = time.monotonic()
        key = (token_id, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_entries:
                self._forget_full(now)
            bucket = self._buckets[key] = [float(rate.burst), now]
        tokens = min(rate.burst, bucket[0] + (now - bucket[1]) * rate.per_second)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        bucket[0], bucket[1] = tokens, now
        reset = math.ceil((rate.burst - tokens) / rate.per_second)
        headers = [(b"ratelimit-limit", str(rate.burst).encode()),
                   (b"ratelimit-remaining", str(int(tokens)).encode()),
                   (b"ratelimit-reset", str(reset).encode())]
        if not allowed:
            headers.append((b"retry-after", str(max(1, math.ceil((1.0 - tokens) / rate.per_second))).encode()))
        return allowed, headers

    def _forget_full(self, now: float) -> None:
        """Drops buckets that have refilled (their tokens are idle); then the oldest half."""
        for key, (tokens, updated) in list(self._buckets.items()):
            rate = self._rates[key[1]]
            if tokens + (now - updated) * rate.per_second >= rate.burst:
                del self._buckets[key]
        if len(self._buckets) >= self._max_entries:
            for key in list(self._buckets)[: self._max_entries // 2]:
                del self._buckets[key]


def charge(scope: Scope, token_id: str) -> None:
    """Takes one request of this token from the app's buckets. Raises a 429 problem when
    the bucket is empty; otherwise the headers ride on the answer (``RateLimitHeaders``)."""
    buckets = getattr(scope["app"].state, "rate_limits", None) if "app" in scope else None
    if buckets is None:
        return
    allowed, headers = buckets.take(token_id, kind_of_call(scope["method"]))
    scope.setdefault("state", {})[STATE_KEY] = headers
    if not allowed:
        raise Problem(RATE_LIMITED, "this token made too many requests; retry after the Retry-After seconds",
                      headers={k.decode(): v.decode() for k, v in headers})


class RateLimitHeaders:
    """Puts the RateLimit-* headers of the request's bucket on its answer, whatever it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = scope.get("state", {}).get(STATE_KEY)
                if headers:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [(k, v) for k, v in headers if k not in present]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
