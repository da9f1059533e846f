"""Every OpenTelemetry instrument, named once, and the Prometheus text they are read as.

The names are the original service's (SPEC §6; dashboards depend on them) plus the
``smart_embedder_*`` names that the Helm chart's HPA and dashboard use. Each app gets its own
``MeterProvider`` and its own Prometheus registry, never the global ones, so several apps in one
process (tests) do not mix their numbers.

Units are left empty on purpose: the Prometheus exporter appends a unit suffix to the name
(``_seconds``) and ``target_info`` / scope labels of its own; the names here are already the
exact exposed names, and a test reads them back from ``/metrics``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from app import __version__

PROMETHEUS_CONTENT_TYPE = CONTENT_TYPE_LATEST

#: endpoint label values → the metric family they belong to
EMBED_ENDPOINTS = ("embeddings", "openai_embeddings")
RERANK_ENDPOINTS = ("rerank", "rerank_compat")
REJECTION_REASONS = ("rate_limit", "backpressure")
QUEUES = ("embed", "rerank")

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TOKENS = (16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
_RATIOS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def family_of(endpoint: str) -> str:
    """``"rerank"`` for the rerank endpoints, ``"embedding"`` for the rest."""
    return "rerank" if endpoint in RERANK_ENDPOINTS else "embedding"


class GaugeSources:
    """What the observable instruments read at scrape time: the scheduler's queues (the
    runtime fills those in once it exists) and the recorder's own request tallies. Reading
    live values means idle gauges are 0, never a stale count, and a request costs a few
    integer increments instead of one OpenTelemetry measurement per counter."""

    def __init__(self) -> None:
        #: (endpoint, status) -> requests answered
        self.statuses: Callable[[], Counter[tuple[str, int]]] = Counter
        #: family ("embedding" / "rerank") -> requests being served now
        self.active: Callable[[], Counter[str]] = Counter
        #: family -> texts embedded / pairs scored
        self.units: Callable[[], Counter[str]] = Counter
        self.pending: Callable[[str], int] = lambda _queue: 0
        self.queued_items: Callable[[str], int] = lambda _queue: 0
        self.server_info: Callable[[], dict[str, str]] = lambda: {"version": __version__}
        self.gpu_memory: Callable[[], dict[str, int]] = lambda: {}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._reader = PrometheusMetricReader(
            disable_target_info=True, scope_info_enabled=False, registry=self.registry
        )
        self._provider = MeterProvider(metric_readers=[self._reader])
        self.sources = GaugeSources()
        meter = self._provider.get_meter("smart_embedder", __version__)

        counter, histogram = meter.create_counter, meter.create_histogram
        for family, name in (("embedding", "Embedding"), ("rerank", "Rerank")):
            meter.create_observable_counter(
                f"{family}_requests_total",
                callbacks=[self._requests_observer(family)],
                description=f"{name} requests answered, by endpoint and HTTP status.",
            )
            meter.create_observable_up_down_counter(
                f"{family}_active_requests",
                callbacks=[self._active_observer(family)],
                description=f"{name} requests being served now.",
            )
        self.rejected = {
            "embedding": counter(
                "embedding_requests_rejected_total",
                description="Embedding requests refused (429 rate_limit, 503 backpressure).",
            ),
            "rerank": counter(
                "rerank_requests_rejected_total",
                description="Rerank requests refused (429 rate_limit, 503 backpressure).",
            ),
        }
        self.durations = {
            "embedding": histogram(
                "embedding_request_duration_seconds",
                description="Time from request to response, by endpoint.",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
            "rerank": histogram(
                "rerank_request_duration_seconds",
                description="Time from request to response, by endpoint.",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
        }
        meter.create_observable_counter(
            "embedding_sentences_processed_total",
            callbacks=[self._units_observer("embedding")],
            description="Texts embedded.",
        )
        meter.create_observable_counter(
            "rerank_pairs_processed_total",
            callbacks=[self._units_observer("rerank")],
            description="Query-passage pairs.",
        )
        self.batch_size = histogram(
            "embedding_batch_size",
            description="Texts in one embedding forward pass.",
            explicit_bucket_boundaries_advisory=_BATCH_SIZES,
        )
        self.inference_seconds = {
            "embed": histogram(
                "embedding_gpu_inference_duration_seconds",
                description="One embedding forward pass (on the configured device).",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
            "rerank": histogram(
                "rerank_inference_duration_seconds",
                description="One rerank forward pass.",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
        }
        self.batch_tokens = histogram(
            "smart_embedder_batch_tokens",
            description="Padded tokens (longest x count) of one forward pass, by queue.",
            explicit_bucket_boundaries_advisory=_TOKENS,
        )
        self.padding_ratio = histogram(
            "smart_embedder_batch_padding_ratio",
            description="Share of a batch's padded tokens that are padding, by queue.",
            explicit_bucket_boundaries_advisory=_RATIOS,
        )
        self.queue_wait = histogram(
            "smart_embedder_queue_wait_seconds",
            description="Time a request's texts waited in their queue before their batch was cut.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        meter.create_observable_gauge(
            "smart_embedder_queue_depth",
            callbacks=[self._observe_depth],
            description="Requests admitted and not yet answered in this pod (HPA metric).",
        )
        meter.create_observable_gauge(
            "embedding_queue_size",
            callbacks=[self._observe_queue_size],
            description="Embedding texts waiting to be batched.",
        )
        meter.create_observable_gauge(
            "embedding_server_info",
            callbacks=[self._observe_info],
            description="Always 1; the labels describe the server.",
        )
        for kind in ("allocated", "reserved", "free", "total"):
            meter.create_observable_gauge(
                f"gpu_memory_{kind}_bytes",
                callbacks=[self._gpu_observer(kind)],
                description=f"GPU memory {kind} (0 without a GPU).",
            )
        self._zero_series()

    def _zero_series(self) -> None:
        # A series that was never touched is not exported; dashboards and the rejection
        # alerts expect these to exist (at 0) from the first scrape.
        # (The observable counters below report these series themselves.)
        for endpoint in (*EMBED_ENDPOINTS, *RERANK_ENDPOINTS):
            family = family_of(endpoint)
            for reason in REJECTION_REASONS:
                self.rejected[family].add(0, {"endpoint": endpoint, "reason": reason})

    # --- observable instruments ---
    def _requests_observer(self, family: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            counts = self.sources.statuses()
            endpoints = EMBED_ENDPOINTS if family == "embedding" else RERANK_ENDPOINTS
            seen = {(endpoint, 200): 0 for endpoint in endpoints}  # from the first scrape
            seen.update({key: n for key, n in counts.items() if family_of(key[0]) == family})
            return [
                Observation(n, {"endpoint": endpoint, "status": str(status)})
                for (endpoint, status), n in seen.items()
            ]

        return observe

    def _active_observer(self, family: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.active()[family])]

        return observe

    def _units_observer(self, family: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.units()[family])]

        return observe

    def _observe_depth(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.sources.pending(q), {"queue": q}) for q in QUEUES]

    def _observe_queue_size(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.sources.queued_items("embed"))]

    def _observe_info(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(1, self.sources.server_info())]

    def _gpu_observer(self, kind: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.gpu_memory().get(kind, 0))]

        return observe

    # --- output ---
    def render(self) -> bytes:
        """The Prometheus text exposition of every instrument above."""
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._provider.shutdown()
