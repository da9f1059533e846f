"""msgspec Structs for TEI's request and response bodies, as its ``docs/openapi.json`` and
``router/src/http/types.rs`` define them (text-embeddings-inference 1.7 to 1.9).

Requests ignore fields they do not know (Weaviate sends ``options``, Elasticsearch
``top_n``); their booleans are ``StrictBool``, JSON ``true`` and ``false`` as TEI reads them.
The texts take the same bounds as the native routes' (``app.api.schemas``); a list
that is empty decodes, so that the handler can answer TEI's 400 ``Empty`` for it, while the
document still says ``minItems: 1``. Where a route decodes more than it accepts (a token id
outside a list of ids, ids beyond the model's vocabulary, limits that are settings) the handler
refuses it with a message that says why, and ``documented_as`` is what the OpenAPI document
shows (``app.api.openapi.bodies``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.common.bounds import MARKER, MAX_TOTAL_CHARS, bounded
from app.api.common.schemas import AtLeastOne, EmbedText, RerankText, StrictBool

#: TEI's ``TruncationDirection`` is ``Left`` / ``Right``; clients also send it in lower case
TruncationDirection = Literal["Left", "Right", "left", "right"]
#: the prompts this server applies: a model's query prompt (Qwen3-Embedding's instruction), or
#: its document prompt, which most models (bge-m3, Qwen3-Embedding) do not have
PromptName = Literal["query", "document", "passage"]
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
#: a token id (TEI's ``u32``); the OpenAPI document bounds it by the served vocabularies
TokenId = Annotated[int, Meta(ge=0, le=2**32 - 1)]
#: TEI's ``Input``: a text, one text's token ids, or a list of texts and token-id lists; what
#: the route decodes (a bare id among texts too, so that the handler can say what is wrong)
DecodedInputs = EmbedText | list[EmbedText | TokenId | list[TokenId]]

_TEXT_SCHEMA = msgspec.json.schema(EmbedText)
#: the key the OpenAPI document's rule for token ids finds them by (``openapi_bodies``)
TOKEN_ID_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "minimum": 0,
    "description": "A token id of the model's vocabulary",
}
_ONE_TEXTS_IDS: dict[str, Any] = {
    "type": "array",
    "items": TOKEN_ID_SCHEMA,
    "minItems": 1,
    MARKER: {"maxItems": "max_sentence_chars"},
    "description": "One text as its token ids, as /tokenize gives them (special tokens "
    "included): the model's input as it is",
}
_INPUTS = Meta(
    extra_json_schema={
        "anyOf": [
            _TEXT_SCHEMA,
            _ONE_TEXTS_IDS,
            {
                "type": "array",
                "items": {"anyOf": [_TEXT_SCHEMA, _ONE_TEXTS_IDS]},
                "minItems": 1,
                MARKER: {
                    "maxItems": "max_sentences_per_request",
                    MAX_TOTAL_CHARS: "max_total_chars_per_request",
                },
                "description": "A batch of texts and token-id lists",
            },
        ],
        "examples": ["What is Deep Learning?", [0, 11, 2], ["Deep Learning", [0, 11, 2]]],
    },
    description="A text, one text's token ids, or a list of 1..MAX_SENTENCES_PER_REQUEST of "
    "either. A text is 1..MAX_SENTENCE_CHARS characters and not blank; token ids (TEI's "
    "token-id input) are 1..MAX_SENTENCE_CHARS ids of the model's vocabulary, taken as the "
    "model's input as they are (no prompt, no special tokens added) and cut as a text is; a "
    "token id counts as one character towards MAX_TOTAL_CHARS_PER_REQUEST",
)
DocumentedInputs = Annotated[Any, _INPUTS]
TruncateField = Annotated[
    StrictBool | None,
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
    truncate: StrictBool | None = None
    truncation_direction: TruncationDirection = "Right"
    prompt_name: PromptName | None = None

    documented_as: ClassVar[type[Struct]] = TeiInputsParams


class TeiEmbedParams(TeiInputsParams, kw_only=True):
    normalize: Annotated[StrictBool, Meta(description="Scale each vector to unit length")] = True
    dimensions: Annotated[
        AtLeastOne | None,
        Meta(
            description="Cut each vector to its first N values and renormalise (Matryoshka), "
            "where the model has it"
        ),
    ] = None


class TeiEmbedRequest(TeiInputsRequest, kw_only=True):
    normalize: StrictBool = True
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
    raw_scores: Annotated[StrictBool, RAW_SCORES] = False
    return_text: Annotated[StrictBool, Meta(description="Give each result its text")] = False


class TeiRank(Struct, kw_only=True):
    index: int
    text: str | UnsetType = UNSET
    score: float


_RERANK_TEXT = msgspec.json.schema(RerankText)
_PREDICT_DESCRIPTION = (
    "A pair [query, text], a lone text (a string, or a list of one), or a list of "
    "1..MAX_RERANK_PASSAGES of [query, text] and [text]: each text 1..MAX_RERANK_TEXT_CHARS "
    "characters and not blank, MAX_RERANK_TOTAL_CHARS in all"
)


def predict_inputs(lone_texts: bool) -> dict[str, Any]:
    """The OpenAPI schema of TEI's ``PredictInput``; ``lone_texts``: whether the served reranker
    scores a lone text (a cross-encoder does; a reranker whose score needs a query does not)."""
    pair = {**_list_of(2), "description": "A pair [query, text]"}
    one: list[dict[str, Any]] = [pair]
    if lone_texts:
        one = [
            {**_RERANK_TEXT, "description": "A lone text, scored as a one-text input"},
            {**_list_of(1), "description": "A lone text in a list of one"},
            pair,
        ]
    item = {"anyOf": one[1:]} if lone_texts else pair
    batch = {
        "type": "array",
        "items": item,
        "minItems": 1,
        MARKER: {"maxItems": "max_rerank_passages"},
        "description": "A batch: a prediction for each",
    }
    described = (
        _PREDICT_DESCRIPTION
        if lone_texts
        else _PREDICT_DESCRIPTION.replace("a lone text (a string, or a list of one), ", "").replace(
            " and [text]", ""
        )
    )
    return {
        "anyOf": [*one, batch],
        "description": described,
        "examples": [["What is Deep Learning?", "Deep Learning is ..."]],
    }


def _list_of(count: int) -> dict[str, Any]:
    return {"type": "array", "items": _RERANK_TEXT, "minItems": count, "maxItems": count}


class TeiPredictParams(Struct, kw_only=True):
    inputs: Annotated[Any, Meta(extra_json_schema=predict_inputs(True))]
    truncate: TruncateField = None
    truncation_direction: DirectionField = "Right"
    raw_scores: Annotated[StrictBool, RAW_SCORES] = False


class TeiPredictRequest(Struct, kw_only=True):
    inputs: RerankText | list[RerankText | list[RerankText]]
    truncate: StrictBool | None = None
    truncation_direction: TruncationDirection = "Right"
    raw_scores: StrictBool = False

    documented_as: ClassVar[type[Struct]] = TeiPredictParams


class TeiPrediction(Struct, kw_only=True):
    score: float
    label: str


# --- /tokenize, /decode ---
class TeiTokenizeParams(Struct, kw_only=True):
    inputs: DocumentedInputs
    add_special_tokens: Annotated[
        StrictBool,
        Meta(
            description="Include the model's special tokens ([CLS], </s>...) with a text; "
            "token ids are listed as given"
        ),
    ] = True
    prompt_name: PromptField = None


class TeiTokenizeRequest(Struct, kw_only=True):
    inputs: DecodedInputs
    add_special_tokens: StrictBool = True
    prompt_name: PromptName | None = None

    documented_as: ClassVar[type[Struct]] = TeiTokenizeParams


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
        StrictBool, Meta(description="Leave the special tokens out of the text")
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
    #: the described model's first served name (``*_SERVED_MODEL_NAME``)
    served_model_name: str
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
