"""msgspec Structs for every native request and response body (SPEC §1.1, §1.3).

Field names and defaults are the original service's: its clients must work unchanged.
Fields a request did not ask for are left out of the response (``omit_defaults``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.bounds import bounded
from app.api.schemas_chunking import ChunkingOptions

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
INPUT_TYPE = Meta(
    description="`query` for search queries, `document` for the texts searched: a model with "
    "a prompt for queries (Qwen3, a sentence-transformers `query` prompt) puts it before "
    "queries only; the others embed both alike"
)
TOP_N = Meta(description="Return only the best N results; null: every one, best first")


def _returns(what: str) -> Meta:
    return Meta(
        description=f"Return the {what}. Left out: returned if a model served here gives it; "
        "true when none does is a 400"
    )


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
            "characters and not blank, MAX_TOTAL_CHARS_PER_REQUEST in all; with `chunking`, "
            "documents of up to MAX_DOCUMENT_CHARS characters, MAX_DOCUMENT_CHARS in all"
        ),
    ]
    # Unset means "yes, if a configured model gives it"; an explicit true for a vector type
    # no model gives is a 400 (SPEC §2).
    return_dense: Annotated[bool, _returns("dense vector (one per text)")] | UnsetType = UNSET
    return_sparse: (
        Annotated[bool, _returns("sparse lexical weights (token id → weight)")] | UnsetType
    ) = UNSET
    return_colbert: (
        Annotated[bool, _returns("ColBERT multi-vector (one vector per token)")] | UnsetType
    ) = UNSET
    normalize_dense: Annotated[
        bool, Meta(description="Scale each dense vector to unit length (L2 norm 1)")
    ] = False
    sparse_as_indices: Annotated[
        bool,
        Meta(
            description='Sparse vectors as {"indices": [...], "values": [...]} (Qdrant\'s '
            'SparseVector) instead of {"<token_id>": weight}'
        ),
    ] = False
    input_type: Annotated[InputTypeField, INPUT_TYPE] = "document"
    dense_type: Annotated[
        Literal["float", "int8", "uint8", "binary", "ubinary"],
        Meta(
            description="The dense vector's type: float (default, as normalize_dense says), or "
            "quantized from the L2-normalised vector: int8 / uint8 by the calibration set's "
            "ranges (GET /health), binary / ubinary as sign bits packed 8 per byte"
        ),
    ] = "float"
    chunking: Annotated[
        ChunkingOptions | None,
        Meta(
            description="Cut each text into chunks with the model's tokenizer and embed the "
            "chunks: each item then has `chunks` (index, text, start, end, tokens, "
            "embeddings), `text == sentence[start:end]`, and empty `embeddings`. Needs a model "
            "that pools token states (bge-m3, a mean-pooled sentence-transformers model); "
            "every vector comes from that one model (a head left out is returned where it "
            "gives it). null: the texts are embedded whole"
        ),
    ] = None


class SparseIndices(Struct, kw_only=True):
    """Qdrant's ``SparseVector`` shape."""

    indices: list[int]
    values: list[float]


class Embeddings(Struct, kw_only=True, omit_defaults=True):
    """Encoded only (the OpenAPI document shows ``EmbeddingsDoc``)."""

    #: ints with a quantized ``dense_type``
    dense: list[float] | list[int] | None = None
    sparse: dict[str, float] | SparseIndices | None = None
    #: float32 (tokens, dim): written as lists of numbers by app.api.encoding
    colbert: np.ndarray | None = None


class Chunk(Struct, kw_only=True):
    """One chunk of a document (``chunking``); encoded only (the document shows ChunkDoc)."""

    index: int
    text: str
    start: int
    end: int
    tokens: int
    embeddings: Embeddings


class EmbeddingItem(Struct, kw_only=True):
    id: int
    text: str
    embeddings: Embeddings
    #: with ``chunking`` only: left out of the original contract's answers
    chunks: list[Chunk] | UnsetType = UNSET


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
    dense: (
        Annotated[
            list[float],
            Meta(
                description="Floats; integers with a quantized dense_type (int8, uint8, "
                "binary, ubinary)"
            ),
        ]
        | None
    ) = None
    sparse: (
        Annotated[
            dict[str, float | list[float]],
            Meta(description='{"<token_id>": weight}, or {"indices": [...], "values": [...]}'),
        ]
        | None
    ) = None
    colbert: list[list[float]] | None = None


class ChunkDoc(Struct, kw_only=True):
    index: Annotated[int, Meta(description="The chunk's place in its document, from 0")]
    text: Annotated[str, Meta(description="The chunk's text: the document's [start:end]")]
    start: Annotated[int, Meta(description="Offset of its first character in the document")]
    end: Annotated[int, Meta(description="Offset just past its last character")]
    tokens: Annotated[
        int,
        Meta(
            description="The tokens its vectors pool: its tokens inside the document (late), "
            "or its text's alone (late: false); special tokens aside, at most max_tokens (0: "
            "text the tokenizer drops, such as a zero-width space; its vectors are zeros)"
        ),
    ]
    embeddings: EmbeddingsDoc


class EmbeddingItemDoc(Struct, kw_only=True):
    id: int
    text: str
    embeddings: Annotated[
        EmbeddingsDoc, Meta(description="The text's vectors; empty with chunking")
    ]
    chunks: (
        Annotated[
            list[ChunkDoc],
            Meta(description="With chunking only: the text's chunks, in order, with their vectors"),
        ]
        | None
    ) = None


class EmbeddingResponseDoc(Struct, kw_only=True):
    data: list[EmbeddingItemDoc]
    model_name: str | None
    dense_model_name: str | None
    sparse_model_name: str | None
    colbert_model_name: str | None
    processing_time_ms: float
    warnings: list[ApiWarning]


# --- /rerank ---
#: a rerank query and its passages, as /rerank and /hybrid_score take them
RerankQuery = Annotated[RerankText, Meta(description="1..MAX_RERANK_TEXT_CHARS, not blank")]
RerankPassages = Annotated[
    RerankTexts,
    Meta(
        description="Passages to score, 1..MAX_RERANK_PASSAGES, each 1..MAX_RERANK_TEXT_CHARS "
        "characters and not blank, MAX_RERANK_TOTAL_CHARS in all"
    ),
]


class RerankRequest(Struct, kw_only=True):
    query: RerankQuery
    passages: RerankPassages
    normalize: Annotated[
        bool, Meta(description="Scores in 0..1 (the sigmoid of the logit); false: raw logits")
    ] = False
    top_n: Annotated[AtLeastOne | None, TOP_N] = None
    model: Annotated[
        str | None,
        Meta(
            description="The reranker's name, or bge-m3's for its hybrid score; null: the "
            "configured reranker (bge-m3 with RERANK_WITH_BGE_M3)"
        ),
    ] = None


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
