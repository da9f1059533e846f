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

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.errors import RateLimited
from app.paths import is_operations_path

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


class RateLimitGuard:
    """A Litestar guard: 429 with ``Retry-After`` once a client's bucket is empty."""

    def __init__(self, buckets: TokenBuckets) -> None:
        self.buckets = buckets

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        if not is_operations_path(connection.scope["path"]):
            self.check(connection)

    def check(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Take a token for this request's client, or raise ``RateLimited``."""
        client = connection.client.host if connection.client else "unknown"
        wait = self.buckets.take(client)
        if wait > 0:
            raise RateLimited(
                f"rate limit exceeded for {client}: {self.buckets.burst:g} requests at once, "
                f"{self.buckets.rate * 60:g} per minute; retry in {math.ceil(wait)}s",
                retry_after=max(1.0, math.ceil(wait)),
            )


def rate_limit_guard(requests_per_minute: int, burst: int) -> RateLimitGuard | None:
    """The guard for these settings, or ``None`` when rate limiting is off (0 rpm)."""
    if requests_per_minute <= 0:
        return None
    return RateLimitGuard(TokenBuckets(requests_per_minute, burst))
