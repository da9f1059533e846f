"""msgspec Structs for the native request and response bodies (SPEC §1.1, §1.3):
``/embeddings/`` and ``/rerank``.

Field names and defaults are the original service's: its clients must work unchanged.
Fields a request did not ask for are left out of the response (``omit_defaults``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.common.encoding import PackedRows
from app.api.common.schemas import (
    COLBERT_POOL_FACTOR,
    COLBERT_TYPE,
    INPUT_TYPE,
    TOP_N,
    ApiWarning,
    AtLeastOne,
    EmbedTexts,
    InputTypeField,
    PoolFactor,
    RerankText,
    RerankTexts,
)
from app.api.native.chunking_schemas import ChunkingOptions
from app.models.quantization import ColbertType
from app.scheduler.priorities import Priority

#: a native body's ``priority``: left out, the X-Priority header's class, else the API key's
PriorityField = Annotated[
    Literal["interactive", "batch"],
    Meta(
        description="interactive (someone waits on the answer: cut into the next batch) or "
        "batch (bulk work such as an indexer's: fills what interactive work leaves, with its "
        "own queue bound). Left out: the X-Priority header's, else the API key's priority, "
        "else interactive. Never above the API key's: a key set to batch is served as batch",
        extra_json_schema={"default": "interactive"},
    ),
]


def asked(priority: Literal["interactive", "batch"] | UnsetType) -> Priority | None:
    """The class a body's ``priority`` asks for; None when it is left out."""
    return None if priority is UNSET else priority


def _returns(what: str) -> Meta:
    return Meta(
        description=f"Return the {what}. Left out: returned if a model served here gives it; "
        "true when none does is a 400"
    )


class ColbertInfo(Struct, kw_only=True):
    """What was done to one text's ColBERT vectors: given when a request asks for pooling or a
    compact type (or the server pools by default)."""

    pool_factor: Annotated[int, Meta(description="The factor applied (1: not pooled)")]
    vectors_before_pooling: Annotated[int, Meta(description="One per token after CLS")]
    vectors_after_pooling: int
    type: ColbertType


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
    priority: PriorityField | UnsetType = UNSET
    colbert_pool_factor: Annotated[PoolFactor, COLBERT_POOL_FACTOR] | UnsetType = UNSET
    colbert_type: Annotated[ColbertType, COLBERT_TYPE] | UnsetType = UNSET
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
    #: float32 (tokens, dim), or a compact colbert_type's rows: written by
    #: app.api.common.encoding
    colbert: np.ndarray | PackedRows | None = None


class Chunk(Struct, kw_only=True):
    """One chunk of a document (``chunking``); encoded only (the document shows ChunkDoc)."""

    index: int
    text: str
    start: int
    end: int
    tokens: int
    embeddings: Embeddings
    colbert_info: ColbertInfo | UnsetType = UNSET


class EmbeddingItem(Struct, kw_only=True):
    id: int
    text: str
    embeddings: Embeddings
    colbert_info: ColbertInfo | UnsetType = UNSET
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
    colbert: (
        Annotated[
            list[list[float]],
            Meta(
                description="One vector per token after CLS (fewer with colbert_pool_factor), "
                "as colbert_type says: numbers in JSON; in MessagePack a compact type's rows are "
                "one byte string"
            ),
        ]
        | None
    ) = None


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
    colbert_info: ColbertInfo | UnsetType = UNSET


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
    colbert_info: ColbertInfo | UnsetType = UNSET


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
    priority: PriorityField | UnsetType = UNSET


class RerankResult(Struct, kw_only=True):
    index: int
    passage: str
    score: float


class RerankResponse(Struct, kw_only=True):
    results: list[RerankResult]
    model_name: str
    processing_time_ms: float
    warnings: list[ApiWarning]
