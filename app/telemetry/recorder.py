"""The one place the app reports what happened. Each event is counted once, into both
``ServiceStats`` (what ``/stats`` shows) and the OpenTelemetry instruments (what ``/metrics``
shows), so the two always agree.

Who calls what:
- the request-accounting middleware: ``request_started`` / ``request_finished`` for every
  inference request, whatever its status (the one place statuses are counted);
- route handlers: ``request_done`` when a request produced results (its sentences / pairs);
- the exception handler: ``rejected`` for each 429 / 503 it sends, ``key_rejected`` for each
  refusal (401, 403, 429, 503) by API key name;
- the scheduler: ``class_admitted`` / ``class_refused`` (admission by priority class),
  ``queue_waits``, ``batch_done``, ``batch_failed``, ``out_of_memory`` and ``budget_lowered``;
- the priority guard: ``priority_lowered`` for a request its API key holds below what it
  asked for.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.paths import ENDPOINT_PATHS, METADATA_ENDPOINTS
from app.telemetry.metrics import SECONDS_BUCKETS, Metrics, family_of
from app.telemetry.tracing import Tracing


@dataclass
class WaitTally:
    """One class's queue waits, as ``/stats`` shows them: a histogram with the buckets of
    ``smart_embedder_queue_wait_seconds``."""

    count: int = 0
    seconds: float = 0.0
    #: per bucket bound of SECONDS_BUCKETS, the waits at or under it (cumulative, as Prometheus')
    buckets: list[int] = field(default_factory=lambda: [0] * len(SECONDS_BUCKETS))

    def add(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        for i, bound in enumerate(SECONDS_BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1


@dataclass
class ServiceStats:
    started_at: float = field(default_factory=time.time)
    requests: Counter[str] = field(default_factory=Counter)  # by endpoint
    errors: Counter[str] = field(default_factory=Counter)  # by endpoint
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (endpoint, status)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (endpoint, reason)
    sentences: int = 0
    pairs: int = 0
    batches: int = 0
    failed_batches: int = 0
    batch_items: int = 0
    batch_tokens: int = 0
    padded_tokens: int = 0
    active: Counter[str] = field(default_factory=Counter)  # by family, being served now
    #: wall and CPU time of the forward passes (the CPU of the passes' own threads)
    inference_seconds: float = 0.0
    inference_cpu_seconds: float = 0.0
    #: by API key name (``anonymous``: without a valid key)
    key_requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    key_texts: Counter[str] = field(default_factory=Counter)
    key_tokens: Counter[str] = field(default_factory=Counter)
    key_rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: out of device memory: batch budgets lowered, batches cut in two, items too large alone
    budget_adaptations: int = 0
    oom_splits: int = 0
    items_too_large: int = 0
    #: by priority class: (queue, class, "admitted" / "refused") -> requests; the queue waits
    admissions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    queue_waits: dict[str, WaitTally] = field(default_factory=dict)
    #: by API key name: requests served in a lower class than they asked for (the key's)
    priority_lowered: Counter[str] = field(default_factory=Counter)


class Recorder:
    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self.stats = ServiceStats()
        self.metrics = metrics or Metrics()
        self.tracing = tracing or Tracing.disabled()
        sources = self.metrics.sources
        sources.statuses = lambda: self.stats.statuses
        sources.rejections = lambda: self.stats.rejected
        sources.active = lambda: self.stats.active
        sources.units = lambda: Counter(embedding=self.stats.sentences, rerank=self.stats.pairs)
        keys = self.metrics.key_sources
        keys.requests = lambda: self.stats.key_requests
        keys.texts = lambda: self.stats.key_texts
        keys.tokens = lambda: self.stats.key_tokens
        keys.rejections = lambda: self.stats.key_rejected
        classes = self.metrics.priority_sources
        classes.admissions = lambda: self.stats.admissions
        classes.lowered = lambda: self.stats.priority_lowered.total()

    # --- requests ---
    def request_started(self, endpoint: str) -> None:
        if endpoint not in METADATA_ENDPOINTS:
            self.stats.active[family_of(endpoint)] += 1

    def request_finished(
        self,
        endpoint: str,
        status: int,
        seconds: float,
        *,
        started_as: str | None = None,
        key: str = "anonymous",
    ) -> None:
        """Every inference request, once, with the status its client got. ``started_as``: the
        endpoint ``request_started`` was told, when the request turned out to be another;
        ``key``: the name of the API key it came with."""
        self.stats.requests[endpoint] += 1
        self.stats.key_requests[(key, endpoint, status)] += 1
        self.stats.statuses[(endpoint, status)] += 1
        if status >= 400:
            self.stats.errors[endpoint] += 1
        self.metrics.detailed_duration.record(seconds, {"endpoint": endpoint})
        if endpoint in METADATA_ENDPOINTS:
            return
        family = family_of(endpoint)
        self.stats.active[family_of(started_as or endpoint)] -= 1
        if family == "rerank":
            self.metrics.durations[family].record(seconds)
        else:
            self.metrics.durations[family].record(seconds, {"endpoint": ENDPOINT_PATHS[endpoint]})

    def request_done(
        self,
        endpoint: str,
        status: int,
        seconds: float,
        units: int,
        *,
        tokens: int = 0,
        key: str = "anonymous",
    ) -> None:
        """A request produced results: count its texts or pairs, and per API key those and
        the tokens they ran as. (Its status and duration are counted by ``request_finished``,
        which sees every request, failed ones too.)"""
        if status >= 400:
            return
        self.stats.key_texts[key] += units
        self.stats.key_tokens[key] += tokens
        if family_of(endpoint) == "rerank":
            self.stats.pairs += units
        else:
            self.stats.sentences += units

    def rejected(self, endpoint: str, reason: str) -> None:
        self.stats.rejected[(endpoint, reason)] += 1  # /metrics reads this tally at scrape time

    def key_rejected(self, key: str, reason: str) -> None:
        self.stats.key_rejected[(key, reason)] += 1

    def priority_lowered(self, key: str) -> bool:
        """A request of API key ``key`` was served below the class it asked for; True the
        first time for that key."""
        self.stats.priority_lowered[key] += 1
        return self.stats.priority_lowered[key] == 1

    # --- the scheduler ---
    def class_admitted(self, kind: str, priority: str) -> None:
        self.stats.admissions[(kind, priority, "admitted")] += 1

    def class_refused(self, kind: str, priority: str) -> None:
        """Refused with 503: the kind's queue was full for this class."""
        self.stats.admissions[(kind, priority, "refused")] += 1

    def queue_waits(
        self, kind: str, now: float, enqueued_at: Iterable[float], *, priority: str = "interactive"
    ) -> None:
        """How long the requests of a batch waited, from their enqueue time until ``now``
        (once per request and batch: a request's items are enqueued together)."""
        record, attributes = self.metrics.queue_wait.record, {"queue": kind, "priority": priority}
        tally = self.stats.queue_waits.get(priority)
        if tally is None:
            tally = self.stats.queue_waits[priority] = WaitTally()
        for started in set(enqueued_at):
            record(now - started, attributes)
            tally.add(now - started)

    def batch_done(
        self,
        kind: str,
        model: str,
        size: int,
        tokens: int,
        padded_tokens: int,
        seconds: float,
        *,
        cpu_seconds: float = 0.0,
    ) -> None:
        self.stats.batches += 1
        self.stats.inference_seconds += seconds
        self.stats.inference_cpu_seconds += cpu_seconds
        self.stats.batch_items += size
        self.stats.batch_tokens += tokens
        self.stats.padded_tokens += padded_tokens
        queue = {"queue": kind}
        self.metrics.batch_tokens.record(padded_tokens, queue)
        if padded_tokens:
            self.metrics.padding_ratio.record(1 - tokens / padded_tokens, queue)
        detail = {"queue": kind, "model": model}
        self.metrics.inference_seconds[kind].record(seconds)
        self.metrics.detailed_inference_seconds.record(seconds, detail)
        self.metrics.detailed_batch_size.record(size, detail)
        if kind == "embed":
            self.metrics.batch_size.record(size)
        self.tracing.batch_span(
            kind, model, seconds, size=size, tokens=tokens, padded_tokens=padded_tokens
        )

    def batch_failed(self, kind: str, model: str, size: int, error: BaseException) -> None:
        self.stats.failed_batches += 1
        self.tracing.batch_span(kind, model, 0.0, size=size, error=error)

    def out_of_memory(self, kind: str, model: str, splits: int, too_large: int) -> None:
        """A batch ran out of device memory: cut ``splits`` times, ``too_large`` items failed."""
        detail = {"queue": kind, "model": model}
        self.stats.oom_splits += splits
        self.stats.items_too_large += too_large
        if splits:
            self.metrics.oom_splits.add(splits, detail)
        if too_large:
            self.metrics.items_too_large.add(too_large, detail)

    def budget_lowered(self, kind: str, model: str, old: int, new: int) -> None:
        self.stats.budget_adaptations += 1
        self.metrics.budget_lowered.add(1, {"queue": kind, "model": model})

    def close(self) -> None:
        self.metrics.shutdown()
        self.tracing.shutdown()
