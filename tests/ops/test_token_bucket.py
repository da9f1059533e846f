"""The token bucket itself, on a fake clock: burst at once, then the refill rate."""

from __future__ import annotations

from app.security.ratelimit import TokenBuckets


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(requests_per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 1.0  # empty: one token refills in 1s at 60/min
    clock.now += 0.25
    assert buckets.take("a") == 0.75
    clock.now += 0.75
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0  # every client has its own bucket


def test_refill_never_exceeds_burst() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(requests_per_minute=600, burst=2, clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.1]
