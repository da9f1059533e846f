"""Per-client token-bucket rate limiting (``RATE_LIMIT_REQUESTS_PER_MINUTE``,
``RATE_LIMIT_BURST_SIZE``) with ``Retry-After``.

Why not Litestar's ``RateLimitConfig`` or the ``limits`` package: both count requests in
windows (fixed or moving), with no separate burst size, and Litestar's answers 429 without a
``Retry-After``. SPEC §4 asks for a token bucket: ``burst`` requests at once, refilled at
``rpm / 60`` per second. That is a dozen lines of arithmetic, kept here.

The client is ``request.client.host``. ``X-Forwarded-For`` is believed only from
``TRUSTED_PROXIES``: uvicorn's ``ProxyHeadersMiddleware`` (installed by ``app.asgi`` only then)
rewrites the client address before this guard runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: past this many clients, buckets that have refilled (the same as no bucket) are dropped
_PRUNE_AT = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float

    def take(self, now: float, rate: float, burst: float) -> float:
        """Refill at ``rate`` per second up to ``burst``, then take one token: 0.0 when
        allowed, else the seconds until one refills."""
        self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class TokenBuckets:
    """One bucket per client key. Not thread-safe: it lives on the event loop."""

    def __init__(
        self,
        requests_per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = requests_per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one refills."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_AT:
                self._prune(now)
            bucket = self._buckets[key] = Bucket(self.burst, now)
        return bucket.take(now, self.rate, self.burst)

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        self._buckets = {key: b for key, b in self._buckets.items() if now - b.updated < full_after}
