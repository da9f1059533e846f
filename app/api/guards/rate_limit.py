"""The per-client rate limit as a Litestar guard: 429 with ``Retry-After`` once a client's
token bucket (``app.security.ratelimit``) is empty. Operations routes are never limited."""

from __future__ import annotations

import math
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from app.errors import RateLimited
from app.paths import is_operations_path
from app.security.ratelimit import TokenBuckets


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
