"""msgspec Structs for the ecosystem routes (SPEC §1.2): OpenAI's embeddings and models
shapes, and the Cohere/Jina rerank shape.

Requests accept fields these APIs' clients send that we have no use for (``user``,
``priority``, ``rank_fields``...): the official clients add fields over time and must keep
working. The fields we read are typed strictly, so a wrong type is a 400 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.schemas import ApiWarning

InputTypeField = Literal["query", "document"]
AtLeastOne = Annotated[int, Meta(ge=1)]


# --- POST /v1/embeddings ---
class OpenAIEmbeddingRequest(Struct, kw_only=True):
    # Token-id arrays (ints, lists of ints) are decoded so the handler can refuse them with
    # a message that says why, instead of a bare type error.
    input: Annotated[
        str | list[str | int | list[int]],
        Meta(description="A text or a list of texts (token-id arrays are not supported)"),
    ]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: AtLeastOne | None = None
    input_type: InputTypeField = "document"
    user: str | None = None


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
    text: str


class CompatRerankRequest(Struct, kw_only=True):
    query: str
    documents: Annotated[
        list[str | RerankDocument],
        Meta(description="Texts, or objects with a `text` field; 1..MAX_RERANK_PASSAGES"),
    ]
    top_n: AtLeastOne | None = None
    return_documents: bool = False
    model: str | None = None
    #: Cohere's per-document cap: accepted; the model's own token limit is what applies
    max_tokens_per_doc: AtLeastOne | None = None


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
