"""TEI's embedding routes: ``POST /embed`` (dense), ``/embed_sparse`` (bge-m3's lexical
weights, or SPLADE's), ``/embed_all`` (per-token vectors: bge-m3's ColBERT vectors) and
``/similarity``. Each runs through the same scheduler, batching and limits as the native
``/embeddings``: the same texts give the same vectors. ``inputs`` may give a text as its token
ids (TEI's token-id input): those go through the same queues and batches, untokenized, and
give the vectors of the text they came from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from app.api.common.colbert_vectors import (
    POOL_FACTOR_FIELD,
    ColbertOptions,
    ShapedColbert,
    colbert_options,
    shape_colbert,
)
from app.api.common.dense_types import dense_width
from app.api.common.encoding import respond
from app.api.common.inference import (
    await_or_abandon,
    check_text,
    check_texts,
    embed_limits,
    prompt_tokens,
    runtime_of,
)
from app.api.common.priority import request_lane
from app.api.tei.errors import TEI_ERRORS, TEI_OPT, EmptyBatch
from app.api.tei.inputs import (
    check_vocabulary,
    compute_headers,
    input_type_of,
    inputs_of,
    serving,
    side_of,
    truncates,
)
from app.api.tei.schemas import (
    PromptName,
    TeiEmbedAllRequest,
    TeiEmbedRequest,
    TeiInputsRequest,
    TeiSimilarityParameters,
    TeiSimilarityRequest,
    TeiSparseValue,
    TruncationDirection,
)
from app.models.base import EmbedInput, Head
from app.models.quantization import unit_rows
from app.scheduler.outcomes import EmbedOutcome
from app.security.apikeys import key_of


class EmbedOptions(Protocol):
    """What every TEI embedding body says about its texts (the request, or ``parameters``)."""

    truncate: bool | None
    truncation_direction: TruncationDirection
    prompt_name: PromptName | None


async def _embed(
    request: Request[Any, Any, Any],
    texts: Sequence[EmbedInput],
    head: Head,
    options: EmbedOptions,
) -> EmbedOutcome:
    runtime = runtime_of(request)
    scheduler = runtime.require_scheduler()
    return await await_or_abandon(
        request,
        scheduler.embed(
            texts,
            frozenset({head}),
            input_type_of(options.prompt_name),
            truncation_side=side_of(options.truncation_direction),
            truncate=truncates(options.truncate),
            lane=request_lane(request),
        ),
        runtime.settings.request_timeout,
    )


async def _embed_inputs(
    request: Request[Any, Any, Any], data: TeiInputsRequest, head: Head, route: str
) -> tuple[list[EmbedInput], EmbedOutcome]:
    """A body's ``inputs`` through the one model that gives ``head``."""
    runtime = runtime_of(request)
    inputs = inputs_of(data.inputs, runtime.settings)
    check_vocabulary(inputs, serving(runtime.require_scheduler().models, head, route))
    return inputs.items, await _embed(request, inputs.items, head, data)


def _done(
    request: Request[Any, Any, Any],
    endpoint: str,
    started: float,
    texts: Sequence[EmbedInput],
    outcome: EmbedOutcome,
    body: object,
    extra_headers: dict[str, str] | None = None,
) -> Response[bytes]:
    tokens = prompt_tokens(outcome.tokenized)
    runtime_of(request).recorder.request_done(
        endpoint,
        200,
        time.perf_counter() - started,
        len(texts),
        tokens=tokens,
        key=key_of(request.scope),
    )
    headers = compute_headers(started, sum(map(len, texts)), tokens)
    return respond(request, body, {**headers, **(extra_headers or {})})


async def embed_dense(request: Request[Any, Any, Any], data: TeiEmbedRequest) -> Response[bytes]:
    """TEI's ``/embed``: one dense vector per input, L2-normalised unless ``normalize`` is
    false, cut to ``dimensions`` first where the model is Matryoshka-trained."""
    started = time.perf_counter()
    runtime = runtime_of(request)
    inputs = inputs_of(data.inputs, runtime.settings)
    backend = serving(runtime.require_scheduler().models, Head.DENSE, "/embed")
    check_vocabulary(inputs, backend)
    keep = dense_width(backend, data.dimensions, "dimensions")
    texts = inputs.items
    outcome = await _embed(request, texts, Head.DENSE, data)
    dense = np.stack([np.asarray(item.dense, dtype=np.float32) for item in outcome.items])
    if keep is not None:
        dense = dense[:, :keep]
    if data.normalize:
        dense = unit_rows(dense)
    return _done(request, "tei_embed", started, texts, outcome, dense.tolist())


async def embed_sparse(request: Request[Any, Any, Any], data: TeiInputsRequest) -> Response[bytes]:
    """TEI's ``/embed_sparse``: each input's non-zero weights by token id, ascending."""
    started = time.perf_counter()
    texts, outcome = await _embed_inputs(request, data, Head.SPARSE, "/embed_sparse")
    body = []
    for item in outcome.items:
        assert item.sparse is not None  # the sparse head ran for every item
        pairs = zip(item.sparse.indices.tolist(), item.sparse.values.tolist(), strict=True)
        body.append([{"index": index, "value": value} for index, value in pairs])
    return _done(request, "tei_embed_sparse", started, texts, outcome, body)


def colbert_headers(shaped: list[ShapedColbert], options: ColbertOptions) -> dict[str, str]:
    """What was done to the ColBERT vectors, where TEI's bare-array body has no room for it."""
    headers = {}
    if options.described:
        headers = {
            "x-colbert-pool-factor": str(options.pool_factor),
            "x-colbert-type": options.type,
            "x-colbert-vectors-before-pooling": ",".join(
                str(s.vectors_before_pooling) for s in shaped
            ),
            "x-colbert-vectors-after-pooling": ",".join(
                str(s.vectors_after_pooling) for s in shaped
            ),
        }
    if options.query_not_pooled:
        # the Warning field (RFC 7234, retired by RFC 9111), code 299 (a persistent warning):
        # the one place beside TEI's bare-array body that a client can read it
        headers["warning"] = (
            f'299 smart-embedder "{POOL_FACTOR_FIELD} applies to documents only: this request '
            'is marked as a query (prompt_name: query), so its ColBERT vectors were not pooled"'
        )
    return headers


class TeiEmbedController(Controller):
    tags = ["tei"]
    opt = TEI_OPT

    @post(
        "/embed",
        status_code=200,
        summary="Dense embeddings, TEI shape",
        description="One vector per input, in input order: L2-normalised unless `normalize` is "
        "false, cut to `dimensions` first where the model is Matryoshka-trained. The same "
        "vectors as `/embeddings/` gives with `normalize_dense: true`.",
        responses={
            200: ResponseSpec(list[list[float]], description="OK", generate_examples=False),
            **TEI_ERRORS,
        },
    )
    async def embed(
        self, request: Request[Any, Any, Any], data: TeiEmbedRequest
    ) -> Response[bytes]:
        return await embed_dense(request, data)

    @post(
        "/embed_sparse",
        status_code=200,
        summary="Sparse lexical weights, TEI shape",
        description="bge-m3's lexical weights (ReLU of its sparse head, the max over a repeated "
        "token, special tokens dropped), or a SPLADE model's where that is the sparse model: "
        "for each input its non-zero weights by token id, ascending. The same weights as "
        "`/embeddings/` gives as `sparse`.",
        responses={
            200: ResponseSpec(
                list[list[TeiSparseValue]], description="OK", generate_examples=False
            ),
            **TEI_ERRORS,
        },
    )
    async def embed_sparse(
        self, request: Request[Any, Any, Any], data: TeiInputsRequest
    ) -> Response[bytes]:
        return await embed_sparse(request, data)

    @post(
        "/embed_all",
        status_code=200,
        summary="Per-token vectors (bge-m3's ColBERT vectors), TEI shape",
        description="For each input, one vector per token: bge-m3's ColBERT vectors (its "
        "colbert head, each row L2-normalised), for every token after CLS, padding excluded. "
        "TEI returns the last hidden state of every token instead; these are what ColBERT "
        "late-interaction scoring takes. The same vectors as `/embeddings/` gives as `colbert`, "
        "with the same `colbert_pool_factor` and `colbert_type` (MessagePack: a compact type's "
        "rows as one byte string per input). With either, the response headers "
        "`x-colbert-pool-factor`, `x-colbert-type`, `x-colbert-vectors-before-pooling` and "
        "`x-colbert-vectors-after-pooling` (one count per input, comma-separated) say what was "
        "done; a query (`prompt_name: query`) is not pooled, and a `Warning` header says so.",
        responses={
            200: ResponseSpec(list[list[list[float]]], description="OK", generate_examples=False),
            **TEI_ERRORS,
        },
    )
    async def embed_all(
        self, request: Request[Any, Any, Any], data: TeiEmbedAllRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        # no ColBERT model: the route itself is not served (TEI's 424), whatever the options
        models = runtime.require_scheduler().models
        serving(models, Head.COLBERT, "/embed_all")
        options = colbert_options(
            models,
            runtime.settings,
            data.colbert_pool_factor,
            data.colbert_type,
            query=input_type_of(data.prompt_name) == "query",
        )
        texts, outcome = await _embed_inputs(request, data, Head.COLBERT, "/embed_all")
        shaped = await shape_colbert(outcome.items, options, runtime.colbert_ranges)
        body = [s.rows for s in shaped]  # arrays: app.api.common.encoding writes them
        headers = colbert_headers(shaped, options)
        return _done(request, "tei_embed_all", started, texts, outcome, body, headers)

    @post(
        "/similarity",
        status_code=200,
        summary="Cosine similarity of sentences to a source sentence, TEI shape",
        description="The cosine similarity of each of `inputs.sentences` to "
        "`inputs.source_sentence`, by the dense model, in input order.",
        responses={
            200: ResponseSpec(list[float], description="OK", generate_examples=False),
            **TEI_ERRORS,
        },
    )
    async def similarity(
        self, request: Request[Any, Any, Any], data: TeiSimilarityRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        source, sentences = data.inputs.source_sentence, data.inputs.sentences
        limits = embed_limits(settings)
        check_text(source, "inputs.source_sentence", limits)
        if not sentences:
            raise EmptyBatch("`inputs.sentences` cannot be empty", param="inputs.sentences")
        check_texts(sentences, "inputs.sentences", limits)
        serving(runtime.require_scheduler().models, Head.DENSE, "/similarity")
        parameters = data.parameters or TeiSimilarityParameters()
        texts = [source, *sentences]
        outcome = await _embed(request, texts, Head.DENSE, parameters)
        rows = unit_rows(
            np.stack([np.asarray(item.dense, dtype=np.float32) for item in outcome.items])
        )
        similarities = (rows[1:] @ rows[0]).tolist()
        return _done(request, "tei_similarity", started, texts, outcome, similarities)
