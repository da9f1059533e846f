"""TEI's reranking: ``POST /rerank`` in TEI's body, and ``POST /predict`` for pairs and lone
texts (a cross-encoder scores a lone text as a one-text input, as TEI does).

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


#: a (query, text) pair, or a lone text (no text beside it)
Scored = tuple[str, str | None]
#: where each text of a ``Scored`` is in the body (``inputs[2][0]``...)
Fields = tuple[str, str | None]


def _scored(
    inputs: str | list[str | list[str]], limits: TextLimits
) -> tuple[list[Scored], list[Fields], bool]:
    """TEI's ``PredictInput`` as what to score, where each text is in the body, and whether it
    came as a batch: a text, a pair or a text in a list of one, or a list of pairs and
    one-text lists (TEI: the first item says which)."""
    if isinstance(inputs, str):
        return [(inputs, None)], [("inputs", None)], False
    if not inputs:
        raise EmptyBatch("`inputs` cannot be empty", param="inputs")
    if isinstance(inputs[0], str):
        texts = [item for item in inputs if isinstance(item, str)]
        if len(texts) < len(inputs):
            raise InvalidInput(
                "inputs mixes texts and lists: send [query, text], [text], or a list of them",
                param="inputs",
            )
        scored, fields = _one(texts, "inputs")
        return [scored], [fields], False
    check_batch(len(inputs), "inputs", limits)
    batch = [_one(item, f"inputs[{i}]") for i, item in enumerate(inputs)]
    return [scored for scored, _ in batch], [fields for _, fields in batch], True


def _one(texts: str | list[str], where: str) -> tuple[Scored, Fields]:
    if isinstance(texts, str):
        raise InvalidInput(
            f"{where} is a text in a batch of lists: send each as [query, text] or [text]",
            param=where,
        )
    if len(texts) == 2:
        return (texts[0], texts[1]), (f"{where}[0]", f"{where}[1]")
    if len(texts) == 1:
        return (texts[0], None), (f"{where}[0]", None)
    raise InvalidInput(f"{where} has {len(texts)} texts; send [query, text] or [text]", param=where)


def _check_predict_texts(scored: list[Scored], fields: list[Fields], limits: TextLimits) -> int:
    """Each text against the rerank limits (a pair's text and each lone text count towards
    MAX_RERANK_TOTAL_CHARS); returns the characters of them all, queries included."""
    counted = 0
    for texts, places in zip(scored, fields, strict=True):
        for text, where in zip(texts, places, strict=True):
            if text is not None and where is not None:
                check_text(text, where, limits)
        counted += len(texts[1] if texts[1] is not None else texts[0])
    if counted > limits.total_chars:
        raise LimitExceeded(
            f"the texts of inputs have {counted} characters in all; at most "
            f"{limits.total_chars} are allowed ({limits.total_chars_setting})",
            param="inputs",
        )
    return counted + sum(len(query) for query, text in scored if text is not None)


class TeiRerankController(Controller):
    tags = ["tei"]
    opt = TEI_OPT

    @post(
        "/predict",
        status_code=200,
        summary="Score (query, text) pairs and lone texts, TEI shape",
        description="The served reranker's score of each pair or lone text, as a one-class "
        "classifier's prediction (`[{score, label}]` for one input, a list of those for a "
        "batch): the sigmoid of the logit, or the logit with `raw_scores`. A lone text is "
        "scored as a one-text input (`<s> text </s>`), as TEI scores it; a reranker whose "
        "score needs a query (Qwen3's) takes pairs only.",
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
        pairs, fields, batch = _scored(data.inputs, limits)
        total = _check_predict_texts(pairs, fields, limits)
        reranker = _reranker(runtime)
        alone = (first for (_, text), (first, _) in zip(pairs, fields, strict=True) if text is None)
        lone = next(alone, None)
        if lone is not None and not reranker.scores_lone_texts:
            raise InvalidInput(
                f"{lone} is a lone text; {reranker.name} scores (query, text) pairs only: "
                "send [query, text]",
                param=lone,
            )
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
