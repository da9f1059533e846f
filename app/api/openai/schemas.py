"""msgspec Structs for OpenAI's embeddings and models routes (SPEC §1.2).

Requests accept fields OpenAI's clients send that we have no use for (``user``...): the
official clients add fields over time and must keep working. The fields we read are typed
strictly, so a wrong type is a 400 naming the field.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.common.schemas import (
    INPUT_TYPE,
    ApiWarning,
    AtLeastOne,
    EmbedText,
    EmbedTexts,
    InputTypeField,
    ModelName,
)


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

    #: what the OpenAPI document shows for this body (app.api.openapi.bodies)
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
