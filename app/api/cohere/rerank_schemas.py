"""msgspec Structs for the Cohere/Jina rerank routes (``/v1/rerank``, ``/v2/rerank``).

Requests accept fields these APIs' clients send that we have no use for (``rank_fields``...):
the official clients add fields over time and must keep working.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from app.api.common.bounds import bounded
from app.api.common.schemas import TOP_N, AtLeastOne, ModelName, RerankText, StrictBool


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
        StrictBool, Meta(description="Give each result its document (`document.text`)")
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
