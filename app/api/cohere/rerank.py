"""Cohere/Jina-compatible reranking (SPEC §1.2): ``POST /v1/rerank`` and ``POST /v2/rerank``.

``relevance_score`` is in [0, 1] as these APIs promise: the sigmoid of a bge reranker's
logit, or a Qwen reranker's yes-probability as it is. Results are sorted by descending
score and keep each document's input ``index``. Cohere's ``meta`` (api version, billed units,
warnings) is filled in because its clients read it; ``usage`` is Jina's.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from app.api.cohere.rerank_schemas import (
    ApiVersion,
    BilledUnits,
    CompatRerankRequest,
    CompatRerankResponse,
    CompatRerankResult,
    CompatRerankUsage,
    RerankDocument,
    RerankMeta,
)
from app.api.common.encoding import respond
from app.api.common.errors import INFERENCE_ERRORS, error_responses
from app.api.common.inference import (
    await_or_abandon,
    check_text,
    check_texts,
    rerank_limits,
    runtime_of,
)
from app.api.common.priority import request_lane
from app.api.common.rerankers import choose_reranker
from app.security.apikeys import key_of

RERANK_COMPAT_ENDPOINT = "rerank_compat"


class RerankCompatController(Controller):
    tags = ["cohere"]

    @post(
        ["/v1/rerank", "/v2/rerank"],
        status_code=200,
        summary="Rerank, Cohere/Jina shape",
        responses={
            200: ResponseSpec(CompatRerankResponse, description="OK", generate_examples=False),
            **INFERENCE_ERRORS,
            **error_responses(404),
        },
    )
    async def rerank(
        self, request: Request[Any, Any, Any], data: CompatRerankRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        texts = [d if isinstance(d, str) else d.text for d in data.documents]
        limits = rerank_limits(settings)
        check_text(data.query, "query", limits)
        check_texts(texts, "documents", limits)
        scheduler = runtime.require_scheduler()
        reranker = choose_reranker(settings, scheduler.models, data.model)
        outcome = await await_or_abandon(
            request,
            reranker.rerank(scheduler, data.query, texts, lane=request_lane(request)),
            settings.request_timeout,
        )
        scores = reranker.normalize(outcome.scores, True)
        order = np.argsort(-scores, kind="stable")[: data.top_n]
        tokens = sum(len(pair.ids) for pair in outcome.pairs)
        warnings = reranker.warnings(outcome, query_field="query", passage_field="documents")
        meta = RerankMeta(
            api_version=ApiVersion(version="2" if request.url.path.startswith("/v2") else "1"),
            # Cohere bills one search unit per query of up to 100 documents.
            billed_units=BilledUnits(search_units=-(-len(texts) // 100), input_tokens=tokens),
        )
        if warnings:
            meta.warnings = [w.message for w in warnings]
        body = CompatRerankResponse(
            id=str(uuid.uuid4()),
            model=reranker.served_name,
            results=[
                _result(int(i), float(scores[i]), texts, data.return_documents) for i in order
            ],
            usage=CompatRerankUsage(total_tokens=tokens),
            meta=meta,
        )
        runtime.recorder.request_done(
            RERANK_COMPAT_ENDPOINT,
            200,
            time.perf_counter() - started,
            len(texts),
            tokens=tokens,
            key=key_of(request.scope),
        )
        return respond(request, body)


def _result(index: int, score: float, texts: list[str], with_document: bool) -> CompatRerankResult:
    result = CompatRerankResult(index=index, relevance_score=score)
    if with_document:
        result.document = RerankDocument(text=texts[index])
    return result
