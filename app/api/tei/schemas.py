"""msgspec Structs for TEI's request and response bodies, as its ``docs/openapi.json`` and
``router/src/http/types.rs`` define them (text-embeddings-inference 1.7/1.8).

Requests ignore fields they do not know (Weaviate sends ``options``, Elasticsearch
``top_n``). The texts take the same bounds as the native routes' (``app.api.schemas``); a list
that is empty decodes, so that the handler can answer TEI's 400 ``Empty`` for it, while the
document still says ``minItems: 1``. Where a route decodes more than it accepts (token-id
inputs, a lone text for ``/predict``) the handler refuses it with a message that says why, and
``documented_as`` is what the OpenAPI document shows (``app.api.openapi_bodies``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.bounds import MARKER, bounded
from app.api.schemas import (
    COLBERT_POOL_FACTOR,
    COLBERT_TYPE,
    AtLeastOne,
    EmbedText,
    PoolFactor,
    RerankText,
)
from app.models.quantization import ColbertType

#: TEI's ``TruncationDirection`` is ``Left`` / ``Right``; clients also send it in lower case
TruncationDirection = Literal["Left", "Right", "left", "right"]
#: the prompts this server applies: a model's query prompt (Qwen3-Embedding's instruction), or
#: its document prompt, which most models (bge-m3, Qwen3-Embedding) do not have
PromptName = Literal["query", "document", "passage"]
#: a token id (TEI's ``u32``)
TokenId = Annotated[int, Meta(ge=0, le=2**32 - 1)]


#: ``minItems: 1`` in the document only: an empty list decodes, and gets TEI's 400
_NONEMPTY = Meta(extra_json_schema={"minItems": 1})
EmbedList = Annotated[
    list[EmbedText],
    _NONEMPTY,
    bounded(max_items="max_sentences_per_request", max_total_chars="max_total_chars_per_request"),
]
RerankList = Annotated[
    list[RerankText],
    _NONEMPTY,
    bounded(max_items="max_rerank_passages", max_total_chars="max_rerank_total_chars"),
]
_INPUTS = (
    "A text, or a list of 1..MAX_SENTENCES_PER_REQUEST texts; each 1..MAX_SENTENCE_CHARS "
    "characters and not blank, MAX_TOTAL_CHARS_PER_REQUEST in all (token-id inputs are not "
    "supported)"
)
#: what the route decodes: token ids too, so that the handler can say they are not supported
DecodedInputs = EmbedText | list[EmbedText | int | list[int]]
DocumentedInputs = Annotated[EmbedText | EmbedList, Meta(description=_INPUTS)]
TruncateField = Annotated[
    bool | None,
    Meta(
        description="false: a text over the model's token limit is a 413; true or null (this "
        "server's auto_truncate): it is cut"
    ),
]
DirectionField = Annotated[
    TruncationDirection, Meta(description="Which end of an over-long text is cut")
]
RAW_SCORES = Meta(description="The logit itself; false: its sigmoid, in 0..1")
PromptField = Annotated[
    PromptName | None,
    Meta(
        description="query: the model's query prompt (Qwen3-Embedding's instruction); "
        "document, passage or null: its document prompt, where it has one"
    ),
]


# --- /embed, /embed_sparse, /embed_all ---
class TeiInputsParams(Struct, kw_only=True):
    inputs: DocumentedInputs
    truncate: TruncateField = None
    truncation_direction: DirectionField = "Right"
    prompt_name: PromptField = None


class TeiInputsRequest(Struct, kw_only=True):
    """``/embed_sparse`` and ``/embed_all`` (TEI's ``EmbedSparseRequest``, ``EmbedAllRequest``)."""

    inputs: DecodedInputs
    truncate: bool | None = None
    truncation_direction: TruncationDirection = "Right"
    prompt_name: PromptName | None = None

    documented_as: ClassVar[type[Struct]] = TeiInputsParams


class TeiEmbedAllParams(TeiInputsParams, kw_only=True):
    colbert_pool_factor: Annotated[PoolFactor, COLBERT_POOL_FACTOR] | UnsetType = UNSET
    colbert_type: Annotated[ColbertType, COLBERT_TYPE] | UnsetType = UNSET


class TeiEmbedAllRequest(TeiInputsRequest, kw_only=True):
    """``/embed_all`` (TEI's ``EmbedAllRequest``), with this server's ColBERT options."""

    colbert_pool_factor: PoolFactor | UnsetType = UNSET
    colbert_type: ColbertType | UnsetType = UNSET

    documented_as: ClassVar[type[Struct]] = TeiEmbedAllParams


class TeiEmbedParams(TeiInputsParams, kw_only=True):
    normalize: Annotated[bool, Meta(description="Scale each vector to unit length")] = True
    dimensions: Annotated[
        AtLeastOne | None,
        Meta(
            description="Cut each vector to its first N values and renormalise (Matryoshka), "
            "where the model has it"
        ),
    ] = None


class TeiEmbedRequest(TeiInputsRequest, kw_only=True):
    normalize: bool = True
    dimensions: AtLeastOne | None = None

    documented_as: ClassVar[type[Struct]] = TeiEmbedParams


class TeiSparseValue(Struct, kw_only=True):
    index: int
    value: float


# --- /similarity ---
class TeiSimilarityInput(Struct, kw_only=True):
    source_sentence: Annotated[EmbedText, Meta(description="The text the others are compared to")]
    sentences: Annotated[
        EmbedList, Meta(description="Texts whose cosine similarity to source_sentence is returned")
    ]


class TeiSimilarityParameters(Struct, kw_only=True):
    truncate: TruncateField = None
    truncation_direction: DirectionField = "Right"
    prompt_name: PromptField = None


class TeiSimilarityRequest(Struct, kw_only=True):
    inputs: Annotated[TeiSimilarityInput, Meta(description="The source text and the others")]
    parameters: Annotated[
        TeiSimilarityParameters | None,
        Meta(description="Truncation and prompt; null: the defaults of each"),
    ] = None


# --- /rerank (TEI's body), /predict ---
class TeiRerankRequest(Struct, kw_only=True):
    query: Annotated[RerankText, Meta(description="1..MAX_RERANK_TEXT_CHARS, not blank")]
    texts: Annotated[
        RerankList,
        Meta(
            description="Texts to score, 1..MAX_RERANK_PASSAGES, each 1..MAX_RERANK_TEXT_CHARS "
            "characters and not blank, MAX_RERANK_TOTAL_CHARS in all"
        ),
    ]
    truncate: TruncateField = None
    truncation_direction: DirectionField = "Right"
    raw_scores: Annotated[bool, RAW_SCORES] = False
    return_text: Annotated[bool, Meta(description="Give each result its text")] = False


class TeiRank(Struct, kw_only=True):
    index: int
    text: str | UnsetType = UNSET
    score: float


_PAIR: dict[str, Any] = {
    "type": "array",
    "items": msgspec.json.schema(RerankText),
    "minItems": 2,
    "maxItems": 2,
    "description": "A pair [query, text]",
}
_PREDICT_INPUTS = Meta(
    extra_json_schema={
        "anyOf": [
            _PAIR,
            {
                "type": "array",
                "items": _PAIR,
                "minItems": 1,
                MARKER: {"maxItems": "max_rerank_passages"},
                "description": "A batch of pairs",
            },
        ]
    },
    description="A pair [query, text], or a list of 1..MAX_RERANK_PASSAGES pairs: the served "
    "reranker scores pairs (a lone text is refused)",
)


class TeiPredictParams(Struct, kw_only=True):
    inputs: Annotated[list[str | list[str]], _PREDICT_INPUTS]
    truncate: TruncateField = None
    truncation_direction: DirectionField = "Right"
    raw_scores: Annotated[bool, RAW_SCORES] = False


class TeiPredictRequest(Struct, kw_only=True):
    #: a lone text decodes too, so that the handler can say why it is refused
    inputs: RerankText | list[RerankText | list[RerankText]]
    truncate: bool | None = None
    truncation_direction: TruncationDirection = "Right"
    raw_scores: bool = False

    documented_as: ClassVar[type[Struct]] = TeiPredictParams


class TeiPrediction(Struct, kw_only=True):
    score: float
    label: str


# --- /tokenize, /decode ---
class TeiTokenizeRequest(Struct, kw_only=True):
    inputs: Annotated[
        EmbedText | EmbedList,
        Meta(description="A text, or a list of 1..MAX_SENTENCES_PER_REQUEST texts"),
    ]
    add_special_tokens: Annotated[
        bool, Meta(description="Include the model's special tokens ([CLS], </s>...)")
    ] = True
    prompt_name: PromptField = None


class TeiToken(Struct, kw_only=True):
    id: int
    text: str
    special: bool
    start: int | None
    stop: int | None


_TOKEN_ID = msgspec.json.schema(TokenId)
_IDS = Meta(
    extra_json_schema={
        "anyOf": [
            {"type": "array", "items": _TOKEN_ID},
            {
                "type": "array",
                "items": {"type": "array", "items": _TOKEN_ID},
                "minItems": 1,
                MARKER: {"maxItems": "max_sentences_per_request"},
            },
        ]
    },
    description="Token ids, or a list of 1..MAX_SENTENCES_PER_REQUEST lists of them; ids the "
    "model does not know are skipped",
)


class TeiDecodeRequest(Struct, kw_only=True):
    ids: Annotated[list[TokenId | list[TokenId]], _IDS]
    skip_special_tokens: Annotated[
        bool, Meta(description="Leave the special tokens out of the text")
    ] = True


# --- /info ---
class TeiEmbeddingModel(Struct, kw_only=True):
    pooling: str


class TeiClassifierModel(Struct, kw_only=True):
    id2label: dict[str, str]
    label2id: dict[str, int]


class TeiModelType(Struct, kw_only=True, omit_defaults=True):
    """One of its fields, as TEI's ``ModelType``: the served model is an embedding model,
    or (only a reranker served) a reranker."""

    embedding: TeiEmbeddingModel | None = None
    reranker: TeiClassifierModel | None = None


class TeiInfo(Struct, kw_only=True):
    model_id: str
    model_sha: str | None
    model_dtype: str
    model_type: TeiModelType
    max_concurrent_requests: int
    max_input_length: int
    max_batch_tokens: int
    max_batch_requests: int | None
    max_client_batch_size: int
    auto_truncate: bool
    tokenization_workers: int
    version: str
    sha: str | None = None
    docker_label: str | None = None
    # --- ours ---
    #: the reranker (its name and pair token limit) when one is served beside the model above
    reranker_id: str | None = None
    reranker_max_input_length: int | None = None


# --- errors ---
TeiErrorType = Literal[
    "Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer", "Empty", "Unauthorized"
]


class TeiErrorBody(Struct, kw_only=True):
    """TEI's ``ErrorResponse``."""

    error: str
    error_type: TeiErrorType
