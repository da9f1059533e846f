"""Each named API key's own limits: a token bucket (``requests_per_minute``, ``burst``) and a
cap on its requests in flight (``max_concurrent``).

The state is kept by key name, and the limits are read from the key on every request: a
reload that changes a key's limits applies them to its next request, with the tokens it had
left; a key that is removed is forgotten once its last request in flight has finished.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable

from app.errors import ConcurrencyLimited, RateLimited
from app.security.apikeys import ApiKey
from app.security.ratelimit import Bucket


class KeyQuotas:
    """Not thread-safe: it lives on the event loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}
        self.in_flight: Counter[str] = Counter()

    def admit(self, key: ApiKey) -> None:
        """Count one more request of ``key`` in flight, or raise the 429 that says which of
        its limits it is over. Every admit is paired with one ``release``."""
        if key.max_concurrent and self.in_flight[key.name] >= key.max_concurrent:
            raise ConcurrencyLimited(
                f"API key {key.name!r} already has {key.max_concurrent} requests in flight, "
                f"its max_concurrent; retry when one has finished",
                retry_after=1,
            )
        if key.requests_per_minute > 0:
            now = self._clock()
            bucket = self._buckets.get(key.name)
            if bucket is None:
                bucket = self._buckets[key.name] = Bucket(float(key.burst), now)
            rate = key.requests_per_minute / 60.0
            wait = bucket.take(now, rate, float(key.burst))
            if wait > 0:
                raise RateLimited(
                    f"rate limit exceeded for API key {key.name!r}: {key.burst} requests at "
                    f"once, {key.requests_per_minute} per minute; retry in {math.ceil(wait)}s",
                    retry_after=max(1.0, math.ceil(wait)),
                )
        self.in_flight[key.name] += 1

    def release(self, name: str) -> None:
        self.in_flight[name] -= 1
        if self.in_flight[name] <= 0:
            del self.in_flight[name]

    def keep_only(self, names: Iterable[str]) -> None:
        """Drop the buckets of keys no longer in force (after a reload)."""
        kept = set(names)
        self._buckets = {name: b for name, b in self._buckets.items() if name in kept}
