"""The token bucket behind every service's rate limits."""

from __future__ import annotations

from flint_chassis.http import ratelimit
from flint_chassis.http.ratelimit import READ, WRITE, Rate, TokenBuckets


def test_a_bucket_refills_at_its_rate_up_to_its_burst(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    buckets = TokenBuckets({READ: Rate(per_second=2, burst=4), WRITE: Rate(per_second=1, burst=1)})
    assert [buckets.take("t", READ)[0] for _ in range(5)] == [True, True, True, True, False]
    allowed, headers = buckets.take("t", READ)
    assert not allowed and dict(headers)[b"retry-after"] == b"1"
    now[0] += 0.5  # one request's worth at 2/s
    assert buckets.take("t", READ)[0] is True
    assert buckets.take("t", READ)[0] is False
    now[0] += 60  # refilled, but never beyond the burst
    assert [buckets.take("t", READ)[0] for _ in range(5)] == [True, True, True, True, False]
