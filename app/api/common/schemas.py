"""What every API family's bodies share: the texts a request takes (bounded by the settings),
the warnings a response carries, the error body, and the ``model`` field of the ecosystem
routes."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.common.bounds import bounded

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
#: a boolean sent as JSON ``true`` or ``false``, nothing else. Litestar reads a body leniently
#: (msgspec's ``strict=False``), which reads 0, 1, "true" and "false" as a ``bool``; msgspec
#: matches a literal's values exactly, so a field of this type refuses them. The OpenAI, Cohere
#: and TEI bodies use it: their clients send JSON booleans, and the services they were written
#: for refuse 0 and 1. The native bodies keep ``bool``: the original service's pydantic models
#: read 0 and 1 as booleans, and its clients must work unchanged (SPEC §1.1). The OpenAPI
#: document states which is which (``app.api.openapi.bodies``).
StrictBool = Literal[True, False]
INPUT_TYPE = Meta(
    description="`query` for search queries, `document` for the texts searched: a model with "
    "a prompt for queries (Qwen3, a sentence-transformers `query` prompt) puts it before "
    "queries only; the others embed both alike"
)
TOP_N = Meta(description="Return only the best N results; null: every one, best first")


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
    code: Literal[
        "input_truncated",
        "query_truncated",
        "passage_truncated",
        "unknown_field",
        "priority_lowered",
    ]
    severity: Literal["warning"] = "warning"
    message: str
    target: WarningTarget
    #: the truncation warnings' numbers; absent from an ``unknown_field`` warning
    details: TruncationDetails | UnsetType = UNSET


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


#: the ``model`` field of every ecosystem request
ModelName = Annotated[
    str | None,
    Meta(
        description="A name GET /v1/models lists for this route's model; null or left out: "
        "the model served for this route. A name not served is a 404, one served for another "
        "role only a 400"
    ),
]
