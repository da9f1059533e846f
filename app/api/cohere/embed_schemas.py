"""msgspec Structs of Cohere's embed API (``POST /v1/embed``, ``POST /v2/embed``).

The request takes what the official ``cohere`` client sends (v1's ``texts``, v2's ``texts``
or ``inputs``); fields it may send that change nothing here (``priority``, ``max_tokens``)
are accepted. ``embeddings`` comes back by type, or, from v1 when no ``embedding_types`` were
asked for, as the plain list of floats Cohere's v1 answers with.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from app.api.cohere.rerank_schemas import ApiVersion
from app.api.common.bounds import bounded
from app.api.common.schemas import AtLeastOne, EmbedText, EmbedTexts, ModelName

CohereInputType = Literal["search_query", "search_document", "classification", "clustering"]
#: Cohere's types: the quantized ones of app.models.quantization, and base64 (float32 bytes)
CohereEmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary", "base64"]
CohereTruncate = Literal["NONE", "START", "END"]


class CohereTextContent(Struct, kw_only=True, tag_field="type", tag="text"):
    text: Annotated[EmbedText, Meta(description="The text to embed")]


class CohereImageContent(Struct, kw_only=True, tag_field="type", tag="image_url"):
    """Read only to refuse it with a message: this server embeds text."""

    image_url: Any = None


class CohereEmbedInput(Struct, kw_only=True):
    content: Annotated[
        list[CohereTextContent | CohereImageContent],
        Meta(min_length=1, max_length=1, description="One text item: {type: text, text}"),
    ]


# The document's view of an input: a text, as that is all this server embeds.
class CohereEmbedInputParams(Struct, kw_only=True):
    content: Annotated[
        list[CohereTextContent],
        Meta(min_length=1, max_length=1, description="One text item: {type: text, text}"),
    ]


_TEXTS_DESCRIPTION = (
    "Texts, 1..MAX_SENTENCES_PER_REQUEST, each 1..MAX_SENTENCE_CHARS characters and not "
    "blank, MAX_TOTAL_CHARS_PER_REQUEST in all; give texts or inputs"
)
_INPUTS_META = Meta(min_length=1, description="v2: texts as content objects; give texts or this")
_INPUTS_BOUND = bounded(max_items="max_sentences_per_request")


class CohereEmbedOptions(Struct, kw_only=True):
    model: ModelName = None
    input_type: Annotated[
        CohereInputType,
        Meta(
            description="search_query embeds a query (Qwen3 gets its instruction); the "
            "others a document"
        ),
    ] = "search_document"
    embedding_types: Annotated[
        Annotated[list[CohereEmbeddingType], Meta(min_length=1)] | None,
        Meta(
            description="Which vectors to return; int8 and uint8 use the ranges of the "
            "calibration set shown in /health. Null or left out: float (v1: a plain list)"
        ),
    ] = None
    truncate: Annotated[
        CohereTruncate,
        Meta(
            description="A text over the model's token limit: END cuts its end, START its "
            "start, NONE refuses it (400)"
        ),
    ] = "END"
    output_dimension: Annotated[
        AtLeastOne | None,
        Meta(description="Matryoshka truncation, where the model supports it (else 400)"),
    ] = None
    max_tokens: Annotated[
        AtLeastOne | None,
        Meta(
            description="Cohere's per-input token cap: accepted; the model's own token limit "
            "(max_length in /health) is what applies"
        ),
    ] = None
    priority: Annotated[
        int | None, Meta(description="Cohere's request priority: accepted, not used")
    ] = None


# The request as the OpenAPI document states it: texts, or inputs of text (app.api.
# openapi_bodies adds that exactly one of the two is given, and that images are refused).
class CohereEmbedParams(CohereEmbedOptions, kw_only=True):
    texts: Annotated[EmbedTexts, Meta(description=_TEXTS_DESCRIPTION)] | UnsetType = UNSET
    inputs: Annotated[list[CohereEmbedInputParams], _INPUTS_META, _INPUTS_BOUND] | UnsetType = UNSET


# The request as the route decodes it: images, and image content in inputs, are read too, so
# the handler can refuse them with a message that says why.
class CohereEmbedRequest(CohereEmbedOptions, kw_only=True):
    texts: Annotated[EmbedTexts, Meta(description=_TEXTS_DESCRIPTION)] | UnsetType = UNSET
    inputs: Annotated[list[CohereEmbedInput], _INPUTS_META, _INPUTS_BOUND] | UnsetType = UNSET
    images: list[str] | UnsetType = UNSET

    #: what the OpenAPI document shows for this body (app.api.openapi.bodies)
    documented_as: ClassVar[type[Struct]] = CohereEmbedParams


class CohereEmbeddingsByType(Struct, kw_only=True, omit_defaults=True):
    """One list per asked-for type, a row per text, in the texts' order."""

    float_: list[list[float]] | UnsetType = field(default=UNSET, name="float")
    int8: list[list[int]] | UnsetType = UNSET
    uint8: list[list[int]] | UnsetType = UNSET
    binary: list[list[int]] | UnsetType = UNSET
    ubinary: list[list[int]] | UnsetType = UNSET
    base64: list[str] | UnsetType = UNSET


class EmbedBilledUnits(Struct, kw_only=True):
    #: tokens the model ran on, special tokens included, after truncation
    input_tokens: int


class EmbedMeta(Struct, kw_only=True):
    api_version: ApiVersion
    billed_units: EmbedBilledUnits
    warnings: list[str] | UnsetType = UNSET


class CohereEmbedResponse(Struct, kw_only=True):
    #: "embeddings_floats" (v1 without embedding_types: ``embeddings`` is a list of rows)
    response_type: Literal["embeddings_by_type", "embeddings_floats"]
    id: str
    embeddings: CohereEmbeddingsByType | list[list[float]]
    texts: list[str]
    meta: EmbedMeta
