"""TEI's reranking: ``POST /rerank`` in TEI's body, and ``POST /predict`` for pairs.

``/rerank`` is also the original service's route (``query``, ``passages``, ``normalize``), so
the two share one path, told apart by the body: an object with ``texts`` and no ``passages``
is TEI's and is answered here (``tei_body_on_rerank``, the native route's ``before_request``);
anything else goes on to the native handler exactly as before. Scores are the reranker's, as
the native route gives them: the logit with ``raw_scores``, else its sigmoid (a Qwen3
reranker's yes-probability either way).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET

from app.api.common.encoding import respond
from app.api.common.inference import (
    TextLimits,
    await_or_abandon,
    check_text,
    check_texts,
    pair_tokens,
    rerank_limits,
    runtime_of,
)
from app.api.common.priority import request_lane
from app.api.common.rerankers import Reranker, choose_reranker, hybrid_backend
from app.api.tei.errors import TEI_ERRORS, TEI_OPT, EmptyBatch, NotServed, mark_tei
from app.api.tei.inputs import (
    body_json,
    check_batch,
    compute_headers,
    convert_body,
    side_of,
    truncates,
)
from app.api.tei.schemas import TeiPrediction, TeiPredictRequest, TeiRank, TeiRerankRequest
from app.errors import InferenceFailed, InvalidInput, LimitExceeded
from app.models.base import RerankBackend
from app.paths import name_endpoint
from app.runtime import Runtime
from app.security.apikeys import key_of

#: a pair's predictions, or a batch's (TEI's ``PredictResponse``)
PredictResponse: Any = list[TeiPrediction] | list[list[TeiPrediction]]


def _reranker(runtime: Runtime) -> RerankBackend:
    reranker = runtime.require_scheduler().models.reranker
    if reranker is None:
        raise NotServed("model is not a re-ranker model: no reranker is served here")
    return reranker


def _tei_reranker(runtime: Runtime) -> Reranker:
    """The configured reranker, or bge-m3 where RERANK_WITH_BGE_M3 says so."""
    models = runtime.require_scheduler().models
    if models.reranker is None and not (
        runtime.settings.rerank_with_bge_m3 and hybrid_backend(models)
    ):
        raise NotServed("model is not a re-ranker model: no reranker is served here")
    return choose_reranker(runtime.settings, models, None)


def _scores(reranker: RerankBackend, raw: np.ndarray, raw_scores: bool) -> np.ndarray:
    return _checked(reranker.normalize(raw, not raw_scores))


def _checked(scores: np.ndarray) -> np.ndarray:
    if np.isnan(scores).any():
        raise InferenceFailed("score is NaN")  # TEI's 424: a NaN cannot be ranked
    return scores


async def tei_rerank(request: Request[Any, Any, Any], data: TeiRerankRequest) -> Response[bytes]:
    """TEI's ``/rerank``: every text's score, highest first, with its input index."""
    started = time.perf_counter()
    runtime = runtime_of(request)
    settings = runtime.settings
    if not data.texts:
        raise EmptyBatch("`texts` cannot be empty", param="texts")
    limits = rerank_limits(settings)
    check_text(data.query, "query", limits)
    check_batch(len(data.texts), "texts", limits)
    check_texts(data.texts, "texts", limits)
    scheduler = runtime.require_scheduler()
    reranker = _tei_reranker(runtime)
    outcome = await await_or_abandon(
        request,
        reranker.rerank(
            scheduler,
            data.query,
            data.texts,
            truncation_side=side_of(data.truncation_direction),
            truncate=truncates(data.truncate),
            lane=request_lane(request),
        ),
        settings.request_timeout,
    )
    scores = _checked(reranker.normalize(outcome.scores, not data.raw_scores))
    ranks = [
        TeiRank(
            index=int(i),
            text=data.texts[i] if data.return_text else UNSET,
            score=float(scores[i]),
        )
        for i in np.argsort(-scores, kind="stable")
    ]
    tokens = pair_tokens(outcome.pairs)
    runtime.recorder.request_done(
        "tei_rerank",
        200,
        time.perf_counter() - started,
        len(data.texts),
        tokens=tokens,
        key=key_of(request.scope),
    )
    chars = len(data.query) * len(data.texts) + sum(map(len, data.texts))
    return respond(request, ranks, compute_headers(started, chars, tokens))


def rerank_body(_: object) -> dict[str, Any]:
    """The OpenAPI schema of ``/rerank``'s body: the original's, or TEI's without
    ``passages`` (with it, the body is the original's)."""
    return {
        "oneOf": [
            {"$ref": "#/components/schemas/RerankRequest"},
            {
                "allOf": [{"$ref": f"#/components/schemas/{TeiRerankRequest.__name__}"}],
                "not": {"required": ["passages"]},
            },
        ]
    }


#: a body's top-level keys, its values left undecoded
_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])


async def tei_body_on_rerank(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """The native ``/rerank``'s ``before_request``: answer TEI's body here, or return None so
    that the native handler reads the body exactly as it always has."""
    body = await request.body()
    if b"texts" not in body:
        return None  # the common case, decided without decoding the body
    try:
        keys = _KEYS.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None  # not a JSON object: the native handler says what is wrong with it
    if "texts" not in keys or "passages" in keys:
        return None
    mark_tei(request)
    name_endpoint(request.scope["state"], "tei_rerank")
    return await tei_rerank(request, convert_body(await body_json(request), TeiRerankRequest))


def _pairs(
    inputs: str | list[str | list[str]], limits: TextLimits
) -> tuple[list[tuple[str, str]], bool]:
    """TEI's ``/predict`` inputs as (query, text) pairs, and whether they came as a batch."""
    lone = (
        "the served reranker scores pairs: send [query, text], or a list of them "
        "([[query, text], ...])"
    )
    if isinstance(inputs, str):
        raise InvalidInput(f"inputs is a single text; {lone}", param="inputs")
    if not inputs:
        raise EmptyBatch("`inputs` cannot be empty", param="inputs")
    if all(isinstance(item, str) for item in inputs):
        if len(inputs) != 2:
            raise InvalidInput(f"inputs has {len(inputs)} texts; {lone}", param="inputs")
        return [(str(inputs[0]), str(inputs[1]))], False
    check_batch(len(inputs), "inputs", limits)
    pairs: list[tuple[str, str]] = []
    for i, item in enumerate(inputs):
        if isinstance(item, str) or len(item) != 2:
            count = "a text" if isinstance(item, str) else f"{len(item)} texts"
            raise InvalidInput(f"inputs[{i}] is {count}; {lone}", param=f"inputs[{i}]")
        pairs.append((item[0], item[1]))
    return pairs, True


class TeiRerankController(Controller):
    tags = ["tei"]
    opt = TEI_OPT

    @post(
        "/predict",
        status_code=200,
        summary="Score (query, text) pairs, TEI shape",
        description="The served reranker's score of each pair, as a one-class classifier's "
        "prediction (`[{score, label}]` for a pair, a list of those for a batch): the "
        "sigmoid of the logit, or the logit with `raw_scores`.",
        responses={
            200: ResponseSpec(
                PredictResponse,
                description="OK",
                generate_examples=False,
            ),
            **TEI_ERRORS,
        },
    )
    async def predict(
        self, request: Request[Any, Any, Any], data: TeiPredictRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        limits = rerank_limits(settings)
        pairs, batch = _pairs(data.inputs, limits)
        for i, (query, text) in enumerate(pairs):
            where = f"inputs[{i}]" if batch else "inputs"
            check_text(query, f"{where}[0]", limits)
            check_text(text, f"{where}[1]", limits)
        texts = sum(len(text) for _, text in pairs)
        if texts > limits.total_chars:
            raise LimitExceeded(
                f"the texts of inputs have {texts} characters in all; at most "
                f"{limits.total_chars} are allowed ({limits.total_chars_setting})",
                param="inputs",
            )
        total = texts + sum(len(query) for query, _ in pairs)
        reranker = _reranker(runtime)
        outcome = await await_or_abandon(
            request,
            runtime.require_scheduler().rerank_pairs(
                pairs,
                truncation_side=side_of(data.truncation_direction),
                truncate=truncates(data.truncate),
                lane=request_lane(request),
            ),
            settings.request_timeout,
        )
        label = str(reranker.info.extra.get("label", "LABEL_0"))
        predictions = [
            [TeiPrediction(score=float(score), label=label)]
            for score in _scores(reranker, outcome.scores, data.raw_scores)
        ]
        tokens = pair_tokens(outcome.pairs)
        runtime.recorder.request_done(
            "tei_predict",
            200,
            time.perf_counter() - started,
            len(pairs),
            tokens=tokens,
            key=key_of(request.scope),
        )
        headers = compute_headers(started, total, tokens)
        return respond(request, predictions if batch else predictions[0], headers)
