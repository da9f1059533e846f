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
    """What the observable gauges read at scrape time; the runtime fills it in once the
    scheduler exists. Reading live values means idle gauges are 0, never a stale count."""

    def __init__(self) -> None:
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
        self.requests = {
            "embedding": counter(
                "embedding_requests_total",
                description="Embedding requests answered, by endpoint and HTTP status.",
            ),
            "rerank": counter(
                "rerank_requests_total",
                description="Rerank requests answered, by endpoint and HTTP status.",
            ),
        }
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
        self.active = {
            "embedding": meter.create_up_down_counter(
                "embedding_active_requests", description="Embedding requests being served now."
            ),
            "rerank": meter.create_up_down_counter(
                "rerank_active_requests", description="Rerank requests being served now."
            ),
        }
        self.sentences = counter(
            "embedding_sentences_processed_total", description="Texts embedded."
        )
        self.pairs = counter("rerank_pairs_processed_total", description="Query-passage pairs.")
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
            description="Time an item waited in its queue before its batch was cut.",
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
        for endpoint in (*EMBED_ENDPOINTS, *RERANK_ENDPOINTS):
            family = family_of(endpoint)
            self.requests[family].add(0, {"endpoint": endpoint, "status": "200"})
            self.active[family].add(0)
            for reason in REJECTION_REASONS:
                self.rejected[family].add(0, {"endpoint": endpoint, "reason": reason})
        self.sentences.add(0)
        self.pairs.add(0)

    # --- observable gauges ---
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
