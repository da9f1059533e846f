"""The one place the app reports what happened; ``/stats`` and ``/metrics`` read from here,
so the two always agree (a rejection is counted once, in both)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ServiceStats:
    started_at: float = field(default_factory=time.time)
    requests: Counter[str] = field(default_factory=Counter)  # by endpoint
    errors: Counter[str] = field(default_factory=Counter)  # by endpoint
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (endpoint, reason)
    sentences: int = 0
    pairs: int = 0
    batches: int = 0
    batch_items: int = 0
    batch_tokens: int = 0
    padded_tokens: int = 0


class Recorder:
    """Counts into ``ServiceStats``; ``app.telemetry.metrics`` extends it with OpenTelemetry."""

    def __init__(self) -> None:
        self.stats = ServiceStats()

    def request_done(self, endpoint: str, status: int, seconds: float, units: int) -> None:
        self.stats.requests[endpoint] += 1
        if status >= 400:
            self.stats.errors[endpoint] += 1
        elif endpoint.startswith("rerank") or "rerank" in endpoint:
            self.stats.pairs += units
        else:
            self.stats.sentences += units

    def rejected(self, endpoint: str, reason: str) -> None:
        self.stats.rejected[(endpoint, reason)] += 1

    def batch_done(
        self, kind: str, model: str, size: int, tokens: int, padded_tokens: int, seconds: float
    ) -> None:
        self.stats.batches += 1
        self.stats.batch_items += size
        self.stats.batch_tokens += tokens
        self.stats.padded_tokens += padded_tokens

    def queue_wait(self, kind: str, seconds: float) -> None:
        pass
