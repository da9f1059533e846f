"""``POST /hybrid_score``: a query against passages by bge-m3's dense, sparse and ColBERT
scores and their weighted sum (``app.models.hybrid_scores``, FlagEmbedding's
``compute_score``), from one forward pass per distinct text.

ColBERT-quality reranking without storing multi-vectors and without a cross-encoder: the
query and the passages go through the scheduler as one request, all three heads at once.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from app.api.common.encoding import respond
from app.api.common.errors import INFERENCE_ERRORS
from app.api.common.inference import (
    await_or_abandon,
    check_text,
    check_texts,
    rerank_limits,
    runtime_of,
)
from app.api.common.priority import priority_warnings, request_lane
from app.api.common.rerankers import embed_once, hybrid_backend
from app.api.common.schemas import ApiWarning, AtLeastOne, TruncationDetails, WarningTarget
from app.api.common.unknown_fields import KnownFields
from app.api.native.schemas import PriorityField, RerankPassages, RerankQuery, asked
from app.errors import InvalidInput
from app.models.base import EmbeddingBackend, TokenizedText
from app.models.hybrid_scores import DEFAULT_WEIGHTS, hybrid_scores

HYBRID_ENDPOINT = "hybrid_score"

#: bounded so that no weighted sum overflows to a NaN score
Weight = Annotated[float, Meta(ge=0, le=1e6)]


class HybridScoreRequest(Struct, kw_only=True):
    query: RerankQuery
    passages: RerankPassages
    weights: Annotated[
        list[Weight],
        Meta(
            min_length=3,
            max_length=3,
            description="[w_dense, w_sparse, w_colbert], each 0..1e6, not all 0: FlagEmbedding's "
            "weights_for_different_modes; the score is their weighted mean",
            # not all 0; the default, which msgspec leaves out for a default_factory
            extra_json_schema={"not": {"items": {"const": 0}}, "default": list(DEFAULT_WEIGHTS)},
        ),
    ] = field(default_factory=lambda: list(DEFAULT_WEIGHTS))
    top_n: Annotated[
        AtLeastOne | None, Meta(description="Keep the best N results; null: all of them")
    ] = None
    priority: PriorityField | UnsetType = UNSET


class HybridScore(Struct, kw_only=True):
    index: int
    passage: str
    #: the weighted mean of the three below
    score: float
    dense: float
    sparse: float
    colbert: float


class HybridScoreResponse(Struct, kw_only=True):
    results: list[HybridScore]
    model_name: str
    weights: list[float]
    processing_time_ms: float
    warnings: list[ApiWarning]


HYBRID_FIELDS = KnownFields(HybridScoreRequest)


class HybridController(Controller):
    tags = ["native"]

    @post(
        "/hybrid_score",
        status_code=200,
        summary="bge-m3 hybrid score: dense, sparse, ColBERT and their weighted sum",
        description="Each passage's three bge-m3 scores against the query and their weighted "
        "mean (as FlagEmbedding's `BGEM3FlagModel.compute_score`), highest first, each with "
        "its input `index`. Every distinct text is embedded once.",
        responses={
            200: ResponseSpec(HybridScoreResponse, description="OK", generate_examples=False),
            **INFERENCE_ERRORS,
        },
    )
    async def hybrid_score(
        self, request: Request[Any, Any, Any], data: HybridScoreRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        limits = rerank_limits(settings)
        check_text(data.query, "query", limits)
        check_texts(data.passages, "passages", limits)
        if sum(data.weights) <= 0:
            raise InvalidInput("weights must not all be 0", param="weights")
        scheduler = runtime.require_scheduler()
        backend = hybrid_backend(scheduler.models)
        if backend is None:
            raise InvalidInput(
                "hybrid scoring needs bge-m3 (BGE_M3_MODEL), its dense, sparse and colbert "
                "vectors from one model: it is not loaded here",
                param="query",
            )
        outcome, where = await await_or_abandon(
            request,
            embed_once(
                scheduler,
                backend,
                data.query,
                data.passages,
                lane=request_lane(request, asked(data.priority)),
            ),
            settings.request_timeout,
        )
        items = outcome.items
        scores = hybrid_scores(items[0], [items[i] for i in where], data.weights)
        order = np.argsort(-scores.combined, kind="stable")
        if data.top_n is not None:
            order = order[: data.top_n]
        ((_, tokens),) = outcome.tokenized
        body = HybridScoreResponse(
            results=[
                HybridScore(
                    index=int(i),
                    passage=data.passages[i],
                    score=float(scores.combined[i]),
                    dense=float(scores.dense[i]),
                    sparse=float(scores.sparse[i]),
                    colbert=float(scores.colbert[i]),
                )
                for i in order
            ],
            model_name=backend.name,
            weights=list(data.weights),
            processing_time_ms=round((time.perf_counter() - started) * 1000, 3),
            warnings=[
                *HYBRID_FIELDS.warnings(await request.body()),
                *truncation_warnings(backend, tokens[0], [tokens[i] for i in where]),
                *priority_warnings(request),
            ],
        )
        runtime.recorder.request_done(
            HYBRID_ENDPOINT, 200, time.perf_counter() - started, len(data.passages)
        )
        return respond(request, body)


def truncation_warnings(
    backend: EmbeddingBackend, query: TokenizedText, passages: list[TokenizedText]
) -> list[ApiWarning]:
    """A warning for the query and for each passage that lost tokens (each text is cut to
    the model's length on its own)."""
    cut = [("query", None, query)] + [("passages", i, p) for i, p in enumerate(passages)]
    return [
        ApiWarning(
            code="query_truncated" if index is None else "passage_truncated",
            message=(
                f"{where} has {text.original_tokens} tokens; {backend.name} takes "
                f"{backend.max_length}, so the last {text.original_tokens - len(text.ids)} "
                "were dropped"
            ),
            target=WarningTarget(
                field=name, index=index, pointer=f"/{name}" if index is None else f"/{name}/{index}"
            ),
            details=TruncationDetails(
                model=backend.name,
                max_tokens=backend.max_length,
                original_tokens=text.original_tokens,
                truncated_tokens=text.original_tokens - len(text.ids),
                truncation_side=backend.truncation_side,
            ),
        )
        for name, index, text in cut
        if text.truncated
        for where in [name if index is None else f"{name}[{index}]"]
    ]
