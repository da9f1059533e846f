"""msgspec Structs for every native request and response body (SPEC §1.1, §1.3).

Field names and defaults are the original service's: its clients must work unchanged.
Fields a request did not ask for are left out of the response (``omit_defaults``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.bounds import bounded

InputTypeField = Literal["query", "document"]

# --- texts, as every request takes them ---
#: a character that is not whitespace by ``str.isspace``, written out as ranges so that
#: ECMA-262 (JSON Schema's regex dialect) and Python's ``re`` read it alike: a text must hold
#: one, as an empty or blank text is a 400 (SPEC §1.1)
NOT_BLANK = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_TEXT = Meta(min_length=1, pattern=NOT_BLANK)
#: a text to embed: at most MAX_SENTENCE_CHARS characters
EmbedText = Annotated[str, _TEXT, bounded(max_length="max_sentence_chars")]
#: a rerank query or passage: at most MAX_RERANK_TEXT_CHARS characters
RerankText = Annotated[str, _TEXT, bounded(max_length="max_rerank_text_chars")]
EmbedTexts = Annotated[
    list[EmbedText],
    Meta(min_length=1),
    bounded(max_items="max_sentences_per_request", max_total_chars="max_total_chars_per_request"),
]
RerankTexts = Annotated[
    list[RerankText],
    Meta(min_length=1),
    bounded(max_items="max_rerank_passages", max_total_chars="max_rerank_total_chars"),
]
AtLeastOne = Annotated[int, Meta(ge=1)]


# --- warnings (both endpoints) ---
class WarningTarget(Struct, kw_only=True):
    field: str
    index: int | None = None
    pointer: str


class TruncationDetails(Struct, kw_only=True):
    model: str
    max_tokens: int
    original_tokens: int
    truncated_tokens: int
    truncation_side: str


class ApiWarning(Struct, kw_only=True):
    code: Literal["input_truncated", "query_truncated", "passage_truncated", "unknown_field"]
    severity: Literal["warning"] = "warning"
    message: str
    target: WarningTarget
    #: the truncation warnings' numbers; absent from an ``unknown_field`` warning
    details: TruncationDetails | UnsetType = UNSET


# --- /embeddings ---
class EmbeddingRequest(Struct, kw_only=True):
    sentences: Annotated[
        EmbedTexts,
        Meta(
            description="Texts, 1..MAX_SENTENCES_PER_REQUEST, each 1..MAX_SENTENCE_CHARS "
            "characters and not blank, MAX_TOTAL_CHARS_PER_REQUEST in all"
        ),
    ]
    # Unset means "yes, if a configured model gives it"; an explicit true for a vector type
    # no model gives is a 400 (SPEC §2).
    return_dense: bool | UnsetType = UNSET
    return_sparse: bool | UnsetType = UNSET
    return_colbert: bool | UnsetType = UNSET
    normalize_dense: bool = False
    sparse_as_indices: bool = False
    input_type: InputTypeField = "document"


class SparseIndices(Struct, kw_only=True):
    """Qdrant's ``SparseVector`` shape."""

    indices: list[int]
    values: list[float]


class Embeddings(Struct, kw_only=True, omit_defaults=True):
    dense: list[float] | None = None
    sparse: dict[str, float] | SparseIndices | None = None
    colbert: list[list[float]] | None = None


class EmbeddingItem(Struct, kw_only=True):
    id: int
    text: str
    embeddings: Embeddings


class EmbeddingResponse(Struct, kw_only=True):
    data: list[EmbeddingItem]
    model_name: str | None
    dense_model_name: str | None
    sparse_model_name: str | None
    colbert_model_name: str | None
    processing_time_ms: float
    warnings: list[ApiWarning]


# The OpenAPI document's view of EmbeddingResponse (never encoded): msgspec cannot describe a
# union of two object types (``dict[str, float] | SparseIndices``), so ``sparse`` is one object
# whose values are weights, or the ``indices`` and ``values`` arrays with sparse_as_indices.
class EmbeddingsDoc(Struct, kw_only=True):
    dense: list[float] | None = None
    sparse: (
        Annotated[
            dict[str, float | list[float]],
            Meta(description='{"<token_id>": weight}, or {"indices": [...], "values": [...]}'),
        ]
        | None
    ) = None
    colbert: list[list[float]] | None = None


class EmbeddingItemDoc(Struct, kw_only=True):
    id: int
    text: str
    embeddings: EmbeddingsDoc


class EmbeddingResponseDoc(Struct, kw_only=True):
    data: list[EmbeddingItemDoc]
    model_name: str | None
    dense_model_name: str | None
    sparse_model_name: str | None
    colbert_model_name: str | None
    processing_time_ms: float
    warnings: list[ApiWarning]


# --- /rerank ---
class RerankRequest(Struct, kw_only=True):
    query: Annotated[RerankText, Meta(description="1..MAX_RERANK_TEXT_CHARS, not blank")]
    passages: Annotated[
        RerankTexts,
        Meta(
            description="Passages to score, 1..MAX_RERANK_PASSAGES, each 1..MAX_RERANK_TEXT_CHARS "
            "characters and not blank, MAX_RERANK_TOTAL_CHARS in all"
        ),
    ]
    normalize: bool = False
    top_n: AtLeastOne | None = None


class RerankResult(Struct, kw_only=True):
    index: int
    passage: str
    score: float


class RerankResponse(Struct, kw_only=True):
    results: list[RerankResult]
    model_name: str
    processing_time_ms: float
    warnings: list[ApiWarning]


# --- errors ---
class ErrorInfo(Struct, kw_only=True):
    message: str
    type: str
    param: str | None = None
    code: int


class ErrorBody(Struct, kw_only=True):
    """Every error: ``detail`` for the original's clients, ``error`` in OpenAI's shape."""

    status_code: int
    detail: str
    error: ErrorInfo


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
    #: "process": the models run in an engine process of their own; "inline": on threads here
    engine: str = "process"
    engine_pid: int | None = None


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
