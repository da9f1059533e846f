"""msgspec Structs for the operations routes: liveness, readiness, ``/health`` and ``/stats``."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct


# --- operations ---
class LiveStatus(Struct, kw_only=True):
    status: str


class ReadyStatus(Struct, kw_only=True):
    status: Literal["ready", "loading", "draining", "failed", "unhealthy"]
    detail: str | None = None


class ModelDescription(Struct, kw_only=True):
    name: str
    kind: str
    max_length: int
    dimension: int | None = None
    #: the dtype its weights run in: float32 on a CPU; on a GPU bfloat16 from compute
    #: capability 8.0, float16 before and for bge-m3 and bge rerankers (DTYPE overrides)
    dtype: str = "float32"


class BatchSettings(Struct, kw_only=True):
    max_batch_tokens: int
    max_batch_requests: int
    batch_overhead_tokens: int | None
    #: per model: the fixed cost of one pass in tokens, measured at start-up unless
    #: BATCH_OVERHEAD_TOKENS is set
    batch_overhead_tokens_by_model: dict[str, int] = {}
    #: per model: the padded token budget batches are cut with now (measured from device
    #: memory at start-up on a GPU, lowered after a batch ran out of memory)
    max_batch_tokens_by_model: dict[str, int] = {}
    #: where the budget came from: "setting" (MAX_BATCH_TOKENS), "measured" (device memory
    #: after a probe batch per model) or "derived" (the device type's default)
    max_batch_tokens_source: str = "derived"
    max_queue_size: int
    rerank_max_queue: int
    cross_request_batching: bool
    inference_workers: int = 1
    #: express passes (interactive work cut while bulk work holds every pass thread) run at
    #: once on a thread of their own (EXPRESS_PASS_THREAD, a CPU only)
    express_thread: bool = False
    #: "process": the models run in an engine process of their own; "inline": on threads here
    engine: str = "process"
    engine_pid: int | None = None
    #: API processes in front of the engine (API_WORKERS)
    api_processes: int = 1


class GpuStatus(Struct, kw_only=True):
    """The original's ``gpu`` object, on a CPU too (``available: false``, ``device_info:
    "CPU"``), with our details of the device beside its fields."""

    available: bool
    device_info: str
    memory_gb: float
    device_count: int
    multi_gpu_enabled: bool
    configured_devices: list[str]
    capability: str | None = None
    cuda: str | None = None
    total_memory_bytes: int | None = None


class QuantizationRanges(Struct, kw_only=True):
    """The calibration of int8 and uint8 dense vectors: the shipped calibration texts through
    the dense model at start-up, and each dimension's range (its 256 buckets are cut evenly
    between ``minimum`` and ``maximum``; a Matryoshka vector cut to fewer dimensions gets the
    ranges of the calibration vectors cut and renormalised the same way)."""

    model: str
    calibration_texts: int
    dimension: int
    minimum: list[float]
    maximum: list[float]


class HealthStatus(Struct, kw_only=True):
    status: str
    # --- the original's fields (SPEC §1.3), with its types ---
    gpu: GpuStatus
    #: the bge-m3 model (the sparse and ColBERT source), else the dense one
    model: str | None
    dense_embedding_model: str | None
    reranker_model: str | None
    #: the longest input, in tokens, of the embedding models
    max_input_length: int | None
    #: texts per forward pass, at most
    batch_size: int | None
    #: requests in one forward pass, at most (each brings at least one text)
    max_requests_in_batch: int | None
    # --- ours ---
    version: str
    device: str
    models_loaded: bool
    dense_model: str | None
    sparse_model: str | None
    colbert_model: str | None
    models: dict[str, ModelDescription]
    batch: BatchSettings | None
    uptime_seconds: float
    #: None until the calibration has run, or without a dense model
    quantization: QuantizationRanges | None = None
    #: the ColBERT uint8 type's ranges (every ColBERT vector of the calibration texts); None
    #: until the calibration has run, or without a ColBERT model
    colbert_quantization: QuantizationRanges | None = None


class StatsTotals(Struct, kw_only=True):
    requests: int
    errors: int
    sentences: int
    rerank_pairs: int
    batches: int
    batch_items: int
    batch_tokens: int
    padded_tokens: int
    rejected_requests: int
    #: texts (or pairs) per forward pass, on average
    items_per_batch: float = 0.0
    #: wall and CPU seconds of the forward passes themselves (their threads' CPU)
    inference_seconds: float = 0.0
    inference_cpu_seconds: float = 0.0
    #: out of device memory: budgets lowered, batches cut in two, items too large alone (507)
    budget_adaptations: int = 0
    oom_splits: int = 0
    items_too_large: int = 0


class KeyUsage(Struct, kw_only=True):
    """One API key's traffic since start-up (``anonymous``: requests without a valid key)."""

    requests: int
    #: HTTP status -> requests answered with it
    statuses: dict[str, int]
    #: texts embedded and pairs scored, and the tokens they ran as
    texts: int
    tokens: int
    #: reason (unauthenticated, route_not_allowed, rate_limit, max_concurrent, backpressure,
    #: not_ready) -> requests refused
    rejected: dict[str, int]
    in_flight: int


class KeysStats(Struct, kw_only=True):
    #: names of the keys in force (API_KEYS_FILE's, and api_token for API_TOKEN)
    loaded: list[str]
    #: reloads of API_KEYS_FILE after start-up: success / failure
    reloads: dict[str, int]
    #: key name -> its traffic
    usage: dict[str, KeyUsage]


class EmbedCacheStatus(Struct, kw_only=True):
    """The exact-text embedding cache (EMBED_CACHE_MB): texts answered from it (hits), texts
    computed and stored (misses), entries dropped to stay in its bytes (evictions)."""

    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    max_bytes: int


class QueueWaitStats(Struct, kw_only=True):
    """A class's queue waits since start-up: the histogram of
    ``smart_embedder_queue_wait_seconds`` (one observation per request and batch)."""

    count: int
    sum_seconds: float
    #: bucket bound in seconds, as Prometheus' ``le`` writes it -> waits at or under it
    buckets: dict[str, int]


class ClassStats(Struct, kw_only=True):
    """One priority class, per queue (embed, rerank)."""

    #: requests admitted and not yet answered now (smart_embedder_queue_depth)
    pending: dict[str, int]
    #: texts or pairs waiting to be cut into a batch now
    queued_items: dict[str, int]
    #: requests that may wait before a 503 (MAX_QUEUE_SIZE ... BATCH_RERANK_MAX_QUEUE)
    max_queue: dict[str, int]
    #: requests admitted, and refused with 503 because this class's queue was full
    admitted: dict[str, int]
    refused: dict[str, int]
    queue_wait: QueueWaitStats


class PrioritiesStats(Struct, kw_only=True):
    #: PRIORITIES: off, every request is served as interactive
    enabled: bool
    #: requests that asked for a class above their API key's and were served in the key's
    lowered: int
    #: "interactive", "batch" -> the class's figures
    classes: dict[str, ClassStats]


class StatsBody(Struct, kw_only=True):
    # --- the original's fields (SPEC §1.3), with its types ---
    #: "1h 2m 3s"
    uptime: str
    uptime_seconds: int
    #: inference requests answered (embeddings and rerank, every status)
    total_requests: int
    total_sentences: int
    total_batches: int
    #: 429s and 503s: the sum of the ``*_requests_rejected_total`` series on /metrics
    rejected_requests: int
    #: "CPU", or the GPU's name and memory: "NVIDIA H100 80GB HBM3 (79.19 GB)"
    hardware: str
    # --- ours ---
    totals: StatsTotals
    requests_by_endpoint: dict[str, int]
    rejected_by_endpoint: dict[str, dict[str, int]]
    queue: dict[str, int]
    # float, not int | float: the OpenAPI oneOf would match an int twice (an invalid answer)
    hardware_details: dict[str, str | float | None]
    keys: KeysStats
    #: null when the cache is off (EMBED_CACHE_MB=0)
    embed_cache: EmbedCacheStatus | None = None
    #: queue depth, admissions and queue waits by priority class (null before the models load)
    priorities: PrioritiesStats | None = None
