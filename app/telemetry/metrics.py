"""Every OpenTelemetry instrument, named once, and the Prometheus text they are read as.

The names are the original service's (SPEC §6; dashboards depend on them), each with exactly
the original's labels, plus the ``smart_embedder_*`` series that carry the detail (endpoint,
HTTP status, model) and that the Helm chart's HPA and dashboard use. Each app gets its own
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
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from app import __version__
from app.paths import ENDPOINT_PATHS, METADATA_ENDPOINTS
from app.telemetry.key_metrics import KeySources, register_key_instruments
from app.telemetry.memory_metrics import MemorySources, register_memory_instruments
from app.telemetry.priority_metrics import PrioritySources, register_priority_instruments

PROMETHEUS_CONTENT_TYPE = CONTENT_TYPE_LATEST

#: our endpoint labels → the metric family they belong to (``smart_embedder_*`` series)
EMBED_ENDPOINTS = (
    "embeddings",
    "openai_embeddings",
    "cohere_embed",
    "tei_embed",
    "tei_embed_sparse",
    "tei_embed_all",
    "tei_similarity",
)
RERANK_ENDPOINTS = ("rerank", "rerank_compat", "tei_rerank", "tei_predict", "hybrid_score")
REJECTION_REASONS = ("rate_limit", "backpressure")
#: the ``status`` values of the original's request counters (its dashboards filter on them)
ORIGINAL_STATUSES = ("success", "error", "timeout")
_ORIGINAL_INFO_LABELS = ("model", "version", "gpu_available", "device")

SECONDS_BUCKETS = _SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TOKENS = (16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
_RATIOS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

Observer = Callable[[CallbackOptions], Iterable[Observation]]


def family_of(endpoint: str) -> str:
    """``"rerank"`` for the rerank endpoints, ``"embedding"`` for the rest: the original counted
    every refusal outside ``/rerank`` as an embedding one, ``/v1/models``' too."""
    return "rerank" if endpoint in RERANK_ENDPOINTS else "embedding"


def original_status(status: int) -> str:
    """The original's ``status`` label for an HTTP status: success, timeout (504) or error."""
    if status < 400:
        return "success"
    return "timeout" if status == 504 else "error"


class GaugeSources:
    """What the observable instruments read at scrape time: the scheduler's queues (the
    runtime fills those in once it exists) and the recorder's own request tallies. Reading
    live values means idle gauges are 0, never a stale count, and a request costs a few
    integer increments instead of one OpenTelemetry measurement per counter."""

    def __init__(self) -> None:
        #: (endpoint, status) -> requests answered
        self.statuses: Callable[[], Counter[tuple[str, int]]] = Counter
        #: (endpoint, reason) -> requests refused (429 / 503)
        self.rejections: Callable[[], Counter[tuple[str, str]]] = Counter
        #: family ("embedding" / "rerank") -> requests being served now
        self.active: Callable[[], Counter[str]] = Counter
        #: family -> texts embedded / pairs scored
        self.units: Callable[[], Counter[str]] = Counter
        self.queued_items: Callable[[str], int] = lambda _queue: 0
        self.server_info: Callable[[], dict[str, str]] = lambda: {"version": __version__}
        self.gpu_memory: Callable[[], dict[str, int]] = lambda: {}
        #: the embedding cache's tallies (hits, misses, evictions, bytes, entries); {} when off
        self.embed_cache: Callable[[], dict[str, int]] = lambda: {}
        #: (queue, model) -> the padded token budget batches are cut with now
        self.budgets: Callable[[], dict[tuple[str, str], int]] = dict


class Metrics:
    """Two sets of series. The original's names carry exactly the original's labels (SPEC §6),
    so queries and alerts written for it match; the ``smart_embedder_*`` series carry the
    detail (endpoint, HTTP status, model, queue)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._reader = PrometheusMetricReader(
            disable_target_info=True, scope_info_enabled=False, registry=self.registry
        )
        self._provider = MeterProvider(metric_readers=[self._reader])
        self.sources = GaugeSources()
        meter = self._provider.get_meter("smart_embedder", __version__)
        observe_counter, histogram = meter.create_observable_counter, meter.create_histogram

        # --- the original's series ---
        observe_counter(
            "embedding_requests_total",
            callbacks=[self._observe_embedding_requests],
            description="Embedding requests answered, by status (success, error, timeout) and "
            "endpoint (path).",
        )
        observe_counter(
            "rerank_requests_total",
            callbacks=[self._observe_rerank_requests],
            description="Rerank requests answered, by status (success, error, timeout).",
        )
        for family, name in (("embedding", "Embedding"), ("rerank", "Rerank")):
            observe_counter(
                f"{family}_requests_rejected_total",
                callbacks=[self._rejections_observer(family)],
                description=f"{name} requests refused, by reason (429 rate_limit, "
                "503 backpressure, 503 not_ready).",
            )
            meter.create_observable_up_down_counter(
                f"{family}_active_requests",
                callbacks=[self._active_observer(family)],
                description=f"{name} requests being served now.",
            )
        self.durations = {
            "embedding": histogram(
                "embedding_request_duration_seconds",
                description="Time from request to response, by endpoint (path).",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
            "rerank": histogram(
                "rerank_request_duration_seconds",
                description="Time from request to response.",
                explicit_bucket_boundaries_advisory=_SECONDS,
            ),
        }
        observe_counter(
            "embedding_sentences_processed_total",
            callbacks=[self._units_observer("embedding")],
            description="Texts embedded.",
        )
        observe_counter(
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
        meter.create_observable_gauge(
            "embedding_queue_size",
            callbacks=[self._observe_queue_size],
            description="Embedding texts waiting to be batched.",
        )
        meter.create_observable_gauge(
            "embedding_server_info",
            callbacks=[self._observe_info],
            description="Always 1; the labels describe the server (the original's set).",
        )
        for kind in ("allocated", "reserved", "free", "total"):
            meter.create_observable_gauge(
                f"gpu_memory_{kind}_bytes",
                callbacks=[self._gpu_observer(kind)],
                description=f"GPU memory {kind} (0 without a GPU).",
            )
        meter.create_observable_gauge(
            "embedding_gpu_memory_allocated_bytes",
            callbacks=[self._gpu_observer("allocated")],
            description="GPU memory allocated: the original's older name of "
            "gpu_memory_allocated_bytes, kept for its dashboards.",
        )

        # --- our detail ---
        observe_counter(
            "smart_embedder_requests_total",
            callbacks=[self._observe_detailed_requests],
            description="Requests answered, by endpoint and HTTP status code.",
        )
        observe_counter(
            "smart_embedder_requests_rejected_total",
            callbacks=[self._observe_detailed_rejections],
            description="Requests refused, by endpoint and reason.",
        )
        self.detailed_duration = histogram(
            "smart_embedder_request_duration_seconds",
            description="Time from request to response, by endpoint.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self.detailed_batch_size = histogram(
            "smart_embedder_batch_size",
            description="Texts or pairs in one forward pass, by queue and model.",
            explicit_bucket_boundaries_advisory=_BATCH_SIZES,
        )
        self.detailed_inference_seconds = histogram(
            "smart_embedder_inference_duration_seconds",
            description="One forward pass, by queue and model.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
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
            description="Time a request's texts waited in their queue before their batch was "
            "cut, by queue and priority class.",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )

        self.budget_lowered = meter.create_counter(
            "smart_embedder_batch_budget_lowered_total",
            description="Times a model's batch token budget was lowered after a batch ran out "
            "of device memory, by queue and model.",
        )
        self.oom_splits = meter.create_counter(
            "smart_embedder_oom_splits_total",
            description="Batches (or parts) cut in two after running out of device memory.",
        )
        self.items_too_large = meter.create_counter(
            "smart_embedder_items_too_large_total",
            description="Texts or pairs that did not fit in device memory even alone (507).",
        )
        meter.create_observable_gauge(
            "smart_embedder_batch_budget_tokens",
            callbacks=[self._observe_budgets],
            description="Padded token budget of one batch now, by queue and model.",
        )
        meter.create_observable_gauge(
            "smart_embedder_server_info",
            callbacks=[self._observe_detailed_info],
            description="Always 1; the labels name the version, device and each role's model.",
        )
        self.key_sources = KeySources()
        register_key_instruments(meter, self.key_sources)
        self.priority_sources = PrioritySources()
        register_priority_instruments(meter, self.priority_sources)
        self._embed_cache_instruments(meter)
        self.memory_sources = MemorySources()
        register_memory_instruments(meter, self.memory_sources)

    def _embed_cache_instruments(self, meter: Meter) -> None:
        for tally, what in (
            ("hits", "Texts answered from the embedding cache (EMBED_CACHE_MB)."),
            ("misses", "Texts the embedding cache did not hold (computed, then stored)."),
            ("evictions", "Entries the embedding cache dropped to stay within its bytes."),
        ):
            meter.create_observable_counter(
                f"smart_embedder_embed_cache_{tally}_total",
                callbacks=[self._embed_cache_observer(tally)],
                description=what,
            )
        for tally, what in (
            ("bytes", "Bytes the embedding cache holds (vectors, token ids, texts, overhead)."),
            ("entries", "Texts the embedding cache holds."),
        ):
            meter.create_observable_gauge(
                f"smart_embedder_embed_cache_{tally}",
                callbacks=[self._embed_cache_observer(tally)],
                description=what,
            )

    def _embed_cache_observer(self, tally: str) -> Observer:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.embed_cache().get(tally, 0))]

        return observe

    def _observe_budgets(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(tokens, {"queue": queue, "model": model})
            for (queue, model), tokens in self.sources.budgets().items()
        ]

    # --- the original's series, read from the tallies ---
    def _observe_embedding_requests(self, _options: CallbackOptions) -> Iterable[Observation]:
        # The endpoint values the original's dashboards use exist (at 0) from the first scrape.
        seen: Counter[tuple[str, str]] = Counter(
            {(ENDPOINT_PATHS[e], s): 0 for e in EMBED_ENDPOINTS for s in ORIGINAL_STATUSES}
        )
        for (endpoint, status), n in self.sources.statuses().items():
            if family_of(endpoint) == "embedding" and endpoint not in METADATA_ENDPOINTS:
                seen[(ENDPOINT_PATHS[endpoint], original_status(status))] += n
        return [Observation(n, {"status": s, "endpoint": e}) for (e, s), n in seen.items()]

    def _observe_rerank_requests(self, _options: CallbackOptions) -> Iterable[Observation]:
        seen: Counter[str] = Counter(dict.fromkeys(ORIGINAL_STATUSES, 0))
        for (endpoint, status), n in self.sources.statuses().items():
            if family_of(endpoint) == "rerank":
                seen[original_status(status)] += n
        return [Observation(n, {"status": s}) for s, n in seen.items()]

    def _rejections_observer(self, family: str) -> Observer:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            seen: Counter[str] = Counter(dict.fromkeys(REJECTION_REASONS, 0))
            for (endpoint, reason), n in self.sources.rejections().items():
                if family_of(endpoint) == family:
                    seen[reason] += n
            return [Observation(n, {"reason": reason}) for reason, n in seen.items()]

        return observe

    def _active_observer(self, family: str) -> Observer:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.active()[family])]

        return observe

    def _units_observer(self, family: str) -> Observer:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.units()[family])]

        return observe

    def _observe_queue_size(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.sources.queued_items("embed"))]

    def _observe_info(self, _options: CallbackOptions) -> Iterable[Observation]:
        info = self.sources.server_info()
        return [Observation(1, {key: info.get(key, "") for key in _ORIGINAL_INFO_LABELS})]

    def _gpu_observer(self, kind: str) -> Observer:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(self.sources.gpu_memory().get(kind, 0))]

        return observe

    # --- our detail ---
    def _observe_detailed_requests(self, _options: CallbackOptions) -> Iterable[Observation]:
        seen: Counter[tuple[str, int]] = Counter(
            {(endpoint, 200): 0 for endpoint in (*EMBED_ENDPOINTS, *RERANK_ENDPOINTS)}
        )
        seen.update(self.sources.statuses())
        return [
            Observation(n, {"endpoint": endpoint, "status": str(status)})
            for (endpoint, status), n in seen.items()
        ]

    def _observe_detailed_rejections(self, _options: CallbackOptions) -> Iterable[Observation]:
        seen: Counter[tuple[str, str]] = Counter(
            {
                (endpoint, reason): 0
                for endpoint in (*EMBED_ENDPOINTS, *RERANK_ENDPOINTS)
                for reason in REJECTION_REASONS
            }
        )
        seen.update(self.sources.rejections())
        return [
            Observation(n, {"endpoint": endpoint, "reason": reason})
            for (endpoint, reason), n in seen.items()
        ]

    def _observe_detailed_info(self, _options: CallbackOptions) -> Iterable[Observation]:
        info = self.sources.server_info()
        return [Observation(1, {k: v for k, v in info.items() if k != "gpu_available"})]

    # --- output ---
    def render(self) -> bytes:
        """The Prometheus text exposition of every instrument above."""
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._provider.shutdown()
