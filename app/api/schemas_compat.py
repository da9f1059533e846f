"""msgspec Structs for the ecosystem routes (SPEC §1.2): OpenAI's embeddings and models
shapes, and the Cohere/Jina rerank shape.

Requests accept fields these APIs' clients send that we have no use for (``user``,
``priority``, ``rank_fields``...): the official clients add fields over time and must keep
working. The fields we read are typed strictly, so a wrong type is a 400 naming the field.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.bounds import bounded
from app.api.schemas import (
    INPUT_TYPE,
    TOP_N,
    ApiWarning,
    AtLeastOne,
    EmbedText,
    EmbedTexts,
    InputTypeField,
    RerankText,
)

#: the ``model`` field of every ecosystem request
ModelName = Annotated[
    str | None,
    Meta(
        description="A name GET /v1/models lists for this route's model; null or left out: "
        "the model served for this route. A name not served is a 404, one served for another "
        "role only a 400"
    ),
]


# --- POST /v1/embeddings ---
class OpenAIEmbeddingOptions(Struct, kw_only=True):
    model: ModelName = None
    encoding_format: Annotated[
        Literal["float", "base64"],
        Meta(description="`base64`: each embedding as base64 of little-endian float32"),
    ] = "float"
    dimensions: Annotated[
        AtLeastOne | None,
        Meta(
            description="Cut each vector to its first N values and renormalise (Matryoshka), "
            "where the model supports it"
        ),
    ] = None
    input_type: Annotated[InputTypeField, INPUT_TYPE] = "document"
    user: Annotated[str | None, Meta(description="Accepted for OpenAI's clients; unused")] = None
    late_chunking: Annotated[
        bool,
        Meta(
            description="Jina's late chunking: the inputs are consecutive chunks of one "
            "document, joined by a space and run as one (in windows beyond the model's "
            "positions); each input's vector is the mean of its tokens there, so it knows the "
            "rest of the document. Needs a model that pools token states (a 422 says so)"
        ),
    ] = False


# The request as the OpenAPI document states it: ``input`` is text.
class OpenAIEmbeddingParams(OpenAIEmbeddingOptions, kw_only=True):
    input: Annotated[
        EmbedText | EmbedTexts,
        Meta(
            description="A text, or a list of 1..MAX_SENTENCES_PER_REQUEST texts; each "
            "1..MAX_SENTENCE_CHARS characters and not blank, MAX_TOTAL_CHARS_PER_REQUEST in all "
            "(token-id arrays are not supported)"
        ),
    ]


# The request as the route decodes it: token-id arrays (ints, lists of ints) are read too, so
# the handler can refuse them with a message that says why instead of a bare type error; the
# document does not offer them.
class OpenAIEmbeddingRequest(OpenAIEmbeddingOptions, kw_only=True):
    input: EmbedText | Annotated[list[EmbedText | int | list[int]], Meta(min_length=1)]

    #: what the OpenAPI document shows for this body (app.api.openapi_bodies)
    documented_as: ClassVar[type[Struct]] = OpenAIEmbeddingParams


class OpenAIEmbedding(Struct, kw_only=True):
    object: Literal["embedding"] = "embedding"
    index: int
    #: floats, or base64 of little-endian float32 with ``encoding_format="base64"``
    embedding: list[float] | str


class OpenAIUsage(Struct, kw_only=True):
    prompt_tokens: int
    total_tokens: int


class OpenAIEmbeddingResponse(Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[OpenAIEmbedding]
    model: str
    usage: OpenAIUsage
    #: present only when a text was cut to the model's token limit (OpenAI would refuse it);
    #: UNSET rather than omit_defaults, which would also drop ``object`` that clients require
    warnings: list[ApiWarning] | UnsetType = UNSET


# --- GET /v1/models ---
class OpenAIModel(Struct, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    #: the configured hub id or directory this name serves (vLLM's ``root``)
    root: str | None = None
    #: what this server uses the model for: dense, sparse, colbert, rerank
    roles: list[str]
    kind: str
    max_length: int
    dimension: int | None = None
    supports_dimensions: bool = False


class OpenAIModelList(Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


# --- POST /v1/rerank, /v2/rerank ---
class RerankDocument(Struct, kw_only=True):
    text: Annotated[RerankText, Meta(description="The document's text")]


class CompatRerankRequest(Struct, kw_only=True):
    query: Annotated[RerankText, Meta(description="1..MAX_RERANK_TEXT_CHARS, not blank")]
    documents: Annotated[
        list[RerankText | RerankDocument],
        Meta(
            min_length=1,
            description="Texts, or objects with a `text` field; 1..MAX_RERANK_PASSAGES, each "
            "1..MAX_RERANK_TEXT_CHARS characters and not blank, MAX_RERANK_TOTAL_CHARS in all",
        ),
        bounded(max_items="max_rerank_passages", max_total_chars="max_rerank_total_chars"),
    ]
    top_n: Annotated[AtLeastOne | None, TOP_N] = None
    return_documents: Annotated[
        bool, Meta(description="Give each result its document (`document.text`)")
    ] = False
    model: ModelName = None
    #: Cohere's per-document cap: accepted; the model's own token limit is what applies
    max_tokens_per_doc: Annotated[
        AtLeastOne | None,
        Meta(description="Accepted for Cohere's clients; the model's own token limit applies"),
    ] = None


class CompatRerankResult(Struct, kw_only=True):
    index: int
    relevance_score: float
    #: only with ``return_documents``
    document: RerankDocument | UnsetType = UNSET


class CompatRerankUsage(Struct, kw_only=True):
    total_tokens: int


class ApiVersion(Struct, kw_only=True):
    version: str


class BilledUnits(Struct, kw_only=True):
    search_units: int
    input_tokens: int


class RerankMeta(Struct, kw_only=True):
    """Cohere's ``meta``: its clients read billed units and warnings from here."""

    api_version: ApiVersion
    billed_units: BilledUnits
    warnings: list[str] | UnsetType = UNSET


class CompatRerankResponse(Struct, kw_only=True):
    id: str
    model: str
    results: list[CompatRerankResult]
    usage: CompatRerankUsage
    meta: RerankMeta
