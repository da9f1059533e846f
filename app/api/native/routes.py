"""The original service's API: ``POST /embeddings/`` and ``POST /rerank`` (SPEC §1.1)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET, UnsetType

from app.api.common.colbert_vectors import (
    POOL_FACTOR_FIELD,
    ColbertOptions,
    ShapedColbert,
    colbert_options,
    shape_colbert,
)
from app.api.common.dense_types import typed_rows, unit_dense
from app.api.common.encoding import respond
from app.api.common.errors import INFERENCE_ERRORS, error_responses
from app.api.common.inference import (
    await_or_abandon,
    check_text,
    check_texts,
    embed_limits,
    input_warnings,
    pair_tokens,
    prompt_tokens,
    rerank_limits,
    runtime_of,
)
from app.api.common.priority import priority_warnings, request_lane
from app.api.common.rerankers import choose_reranker
from app.api.common.schemas import ApiWarning, WarningTarget
from app.api.common.unknown_fields import KnownFields
from app.api.native.chunking import chunked_items, document_limits
from app.api.native.schemas import (
    ColbertInfo,
    EmbeddingItem,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingResponseDoc,
    Embeddings,
    RerankRequest,
    RerankResponse,
    RerankResult,
    SparseIndices,
    asked,
)
from app.api.tei.errors import either_error_responses
from app.api.tei.rerank import rerank_body, tei_body_on_rerank
from app.api.tei.schemas import TeiRank, TeiRerankRequest
from app.errors import InvalidInput
from app.models.base import Head, ItemEmbedding
from app.runtime import Runtime
from app.security.apikeys import key_of

EMBED_ENDPOINT = "embeddings"
RERANK_ENDPOINT = "rerank"
EMBED_FIELDS = KnownFields(EmbeddingRequest)
RERANK_FIELDS = KnownFields(RerankRequest)


def requested_heads(data: EmbeddingRequest, available: Collection[Head]) -> frozenset[Head]:
    heads = set()
    for head, wanted in (
        (Head.DENSE, data.return_dense),
        (Head.SPARSE, data.return_sparse),
        (Head.COLBERT, data.return_colbert),
    ):
        if wanted is True or (wanted is UNSET and head in available):
            heads.add(head)
    if not heads:
        raise InvalidInput(
            "nothing to compute: return_dense, return_sparse and return_colbert are all false"
        )
    return frozenset(heads)


def l2_normalized(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def to_embeddings(
    item: ItemEmbedding,
    data: EmbeddingRequest,
    runtime: Runtime,
    colbert: ShapedColbert | None,
) -> Embeddings:
    out = Embeddings()
    if item.dense is not None:
        if data.dense_type != "float":
            # quantized from the unit vector, whatever normalize_dense says: the calibration
            # ranges are those of unit vectors, and a sign bit is the same either way
            row = unit_dense(np.asarray(item.dense, dtype=np.float32)[None, :], None)
            out.dense = typed_rows(runtime, row, data.dense_type)[0]
        else:
            dense = l2_normalized(item.dense) if data.normalize_dense else item.dense
            out.dense = dense.tolist()
    if item.sparse is not None:
        indices, values = item.sparse.indices.tolist(), item.sparse.values.tolist()
        if data.sparse_as_indices:
            out.sparse = SparseIndices(indices=indices, values=values)
        else:
            out.sparse = dict(zip(map(str, indices), values, strict=True))
    if colbert is not None:
        out.colbert = colbert.rows  # written by app.api.common.encoding
    return out


def colbert_info(shaped: ShapedColbert | None, options: ColbertOptions) -> ColbertInfo | UnsetType:
    if shaped is None or not options.described:
        return UNSET
    return ColbertInfo(
        pool_factor=options.pool_factor,
        vectors_before_pooling=shaped.vectors_before_pooling,
        vectors_after_pooling=shaped.vectors_after_pooling,
        type=options.type,
    )


def not_pooled_warning(options: ColbertOptions) -> list[ApiWarning]:
    if not options.query_not_pooled:
        return []
    field = POOL_FACTOR_FIELD
    return [
        ApiWarning(
            code="query_not_pooled",
            message=f"{field} applies to documents only: this request is marked as a query "
            "(input_type: query), so its ColBERT vectors were not pooled",
            target=WarningTarget(field=field, pointer=f"/{field}"),
        )
    ]


class NativeController(Controller):
    tags = ["native"]

    @post(
        ["/embeddings", "/embeddings/"],
        status_code=200,
        summary="Dense, sparse and ColBERT",
        description="Each text's vectors, in input order. JSON, or MessagePack with `Accept: "
        "application/msgpack` (the same body; ColBERT vectors of a compact `colbert_type` are "
        "then one byte string per text, its rows end to end). With `colbert_pool_factor` or a "
        "compact `colbert_type` each item's `colbert_info` says what was done.",
        responses={
            200: ResponseSpec(EmbeddingResponseDoc, description="OK", generate_examples=False),
            **INFERENCE_ERRORS,
        },
    )
    async def embeddings(
        self, request: Request[Any, Any, Any], data: EmbeddingRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        lane = request_lane(request, asked(data.priority))
        settings = runtime.settings
        chunked = data.chunking is not None
        # bad input is a 4xx whether or not the models are ready
        limits = document_limits(settings) if chunked else embed_limits(settings)
        check_texts(data.sentences, "sentences", limits)
        scheduler = runtime.require_scheduler()
        models = scheduler.models
        options = colbert_options(
            models,
            settings,
            data.colbert_pool_factor,
            data.colbert_type,
            query=data.input_type == "query",
        )
        token_warnings: list[ApiWarning] = []

        async def converted(
            items: Sequence[ItemEmbedding],
        ) -> list[tuple[Embeddings, ColbertInfo | UnsetType]]:
            colbert: Sequence[ShapedColbert | None] = [None] * len(items)
            if items and all(item.colbert is not None for item in items):
                colbert = await shape_colbert(items, options, runtime.colbert_ranges)
            return [
                (to_embeddings(item, data, runtime, shaped), colbert_info(shaped, options))
                for item, shaped in zip(items, colbert, strict=True)
            ]

        if chunked:
            # long documents cut into chunks (app/api/native/chunking.py)
            items, tokens = await chunked_items(request, data, runtime, converted, lane)
            colbert_asked = any(
                chunk.embeddings.colbert is not None
                for item in items
                for chunk in item.chunks or ()
            )
        else:
            heads = requested_heads(data, models.by_head.keys())
            outcome = await await_or_abandon(
                request,
                scheduler.embed(data.sentences, heads, data.input_type, lane=lane),
                settings.request_timeout,
            )
            items = [
                EmbeddingItem(id=i, text=text, embeddings=embeddings, colbert_info=info)
                for i, (text, (embeddings, info)) in enumerate(
                    zip(data.sentences, await converted(outcome.items), strict=True)
                )
            ]
            tokens = prompt_tokens(outcome.tokenized)
            token_warnings = input_warnings(outcome.tokenized, "sentences")
            colbert_asked = Head.COLBERT in heads
        body = EmbeddingResponse(
            data=items,
            model_name=models.name_for(Head.DENSE),
            dense_model_name=models.name_for(Head.DENSE),
            sparse_model_name=models.name_for(Head.SPARSE),
            colbert_model_name=models.name_for(Head.COLBERT),
            processing_time_ms=round((time.perf_counter() - started) * 1000, 3),
            warnings=[
                # Litestar keeps the body it decoded ``data`` from: this reads no more
                *EMBED_FIELDS.warnings(await request.body()),
                *token_warnings,
                *(not_pooled_warning(options) if colbert_asked else []),
                *priority_warnings(request),
            ],
        )
        runtime.recorder.request_done(
            EMBED_ENDPOINT,
            200,
            time.perf_counter() - started,
            len(data.sentences),
            tokens=tokens,
            key=key_of(request.scope),
        )
        return respond(request, body)

    @post(
        "/rerank",
        status_code=200,
        summary="Score passages against a query",
        description="The original service's body (`query`, `passages`). A body with `texts` "
        "and no `passages` is TEI's rerank body (`query`, `texts`, `raw_scores`, `return_text`) "
        "and gets TEI's answer: `[{index, score, text?}]`, highest score first.",
        # TEI's body shares this path; tei_body_on_rerank answers it before this handler reads
        # the body, so the original's requests go through exactly as before
        before_request=tei_body_on_rerank,
        opt={"documented_bodies": (TeiRerankRequest,), "request_body": rerank_body},
        responses={
            200: ResponseSpec(
                RerankResponse | list[TeiRank],  # type: ignore[arg-type]
                description="OK",
                generate_examples=False,
            ),
            # 404: a `model` that is not served
            **either_error_responses({**INFERENCE_ERRORS, **error_responses(404)}),
        },
    )
    async def rerank(self, request: Request[Any, Any, Any], data: RerankRequest) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        limits = rerank_limits(settings)
        check_text(data.query, "query", limits)
        check_texts(data.passages, "passages", limits)
        scheduler = runtime.require_scheduler()
        reranker = choose_reranker(settings, scheduler.models, data.model)
        outcome = await await_or_abandon(
            request,
            reranker.rerank(
                scheduler,
                data.query,
                data.passages,
                lane=request_lane(request, asked(data.priority)),
            ),
            settings.request_timeout,
        )
        scores = reranker.normalize(outcome.scores, data.normalize)
        order = np.argsort(-scores, kind="stable")
        if data.top_n is not None:
            order = order[: data.top_n]
        body = RerankResponse(
            results=[
                RerankResult(index=int(i), passage=data.passages[i], score=float(scores[i]))
                for i in order
            ],
            model_name=reranker.name,
            processing_time_ms=round((time.perf_counter() - started) * 1000, 3),
            warnings=[
                *RERANK_FIELDS.warnings(await request.body()),
                *reranker.warnings(outcome, query_field="query", passage_field="passages"),
                *priority_warnings(request),
            ],
        )
        runtime.recorder.request_done(
            RERANK_ENDPOINT,
            200,
            time.perf_counter() - started,
            len(data.passages),
            tokens=pair_tokens(outcome.pairs),
            key=key_of(request.scope),
        )
        return respond(request, body)
