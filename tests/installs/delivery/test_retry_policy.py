"""Retries: exponential with full jitter, from seconds to hours, for three days, then given up;
an endpoint failing for three days without a success is disabled."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.retry import MIN_DELAY, RetryPolicy

POLICY = RetryPolicy()
CREATED = datetime(2030, 1, 1, tzinfo=UTC)


def test_the_defaults_retry_for_three_days_with_delays_from_seconds_to_six_hours():
    assert DeliverySettings().retry_policy() == POLICY
    assert POLICY.window == timedelta(days=3)
    assert POLICY.disable_after == timedelta(days=3)
    assert POLICY.delay_bound(1) == timedelta(seconds=10)
    assert POLICY.delay_bound(2) == timedelta(seconds=20)
    assert POLICY.delay_bound(5) == timedelta(seconds=160)
    assert POLICY.delay_bound(12) == timedelta(seconds=20480)
    assert POLICY.delay_bound(13) == timedelta(hours=6)
    assert POLICY.delay_bound(10_000) == timedelta(hours=6)


@given(failed=st.integers(min_value=1, max_value=10_000), seed=st.integers())
def test_every_delay_lies_between_the_floor_and_the_exponential_bound(failed, seed):
    delay = POLICY.retry_delay(failed, random.Random(seed))
    assert MIN_DELAY <= delay <= POLICY.delay_bound(failed)


def test_delays_are_spread_over_the_whole_range_not_clustered_at_the_bound():
    rng = random.Random(7)
    draws = [POLICY.retry_delay(8, rng).total_seconds() for _ in range(2000)]
    bound = POLICY.delay_bound(8).total_seconds()
    assert min(draws) < 0.05 * bound and max(draws) > 0.95 * bound
    assert 0.4 * bound < sum(draws) / len(draws) < 0.6 * bound


@given(seed=st.integers())
def test_a_failing_delivery_is_retried_until_the_window_closes_then_given_up(seed):
    # given a receiver that fails every attempt
    rng, now, failed, attempts_at = random.Random(seed), CREATED, 0, [CREATED]
    while True:
        failed += 1
        retry_at = POLICY.next_attempt_at(created_at=CREATED, failed_attempts=failed, now=now, rng=rng)
        if retry_at is None:
            break
        assert now < retry_at <= CREATED + POLICY.window
        attempts_at.append(retry_at)
        now = retry_at
    # then the last attempt is at the very end of the window, and it took many attempts to get there
    assert attempts_at[-1] == CREATED + POLICY.window
    assert 15 <= len(attempts_at) <= 2000
    gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
    assert max(gaps) <= POLICY.max_delay


def test_a_retry_by_hand_after_the_window_gets_one_attempt_and_no_more():
    late = CREATED + POLICY.window + timedelta(days=2)
    assert POLICY.next_attempt_at(created_at=CREATED, failed_attempts=1, now=late) is None


def test_a_lease_shorter_than_an_attempt_is_refused():
    with pytest.raises(ValidationError, match="claim_lease must be longer than total_timeout"):
        DeliverySettings(total_timeout=30, claim_lease=20)


def test_a_shorter_configured_window_gives_up_sooner():
    policy = DeliverySettings(retry_window=3600, retry_first_delay=0.2).retry_policy()
    assert policy.next_attempt_at(created_at=CREATED, failed_attempts=3, now=CREATED + timedelta(minutes=59)) \
        <= CREATED + timedelta(hours=1)
    assert policy.next_attempt_at(created_at=CREATED, failed_attempts=3, now=CREATED + timedelta(hours=1)) is None
    # a first delay under the floor is honoured: the floor never exceeds the bound
    assert policy.retry_delay(1, random.Random(1)) <= timedelta(seconds=0.2)


def test_an_endpoint_is_disabled_only_after_failing_without_a_success_for_the_whole_period():
    policy = RetryPolicy(disable_after=timedelta(days=3))
    since = CREATED
    assert not policy.should_disable(failing_since=None, now=CREATED + timedelta(days=30))
    assert not policy.should_disable(failing_since=since, now=since + timedelta(days=3) - timedelta(seconds=1))
    assert policy.should_disable(failing_since=since, now=since + timedelta(days=3))
