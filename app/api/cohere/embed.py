"""Cohere's embed API (``POST /v1/embed``, ``POST /v2/embed``), with its quantized vector
types per request.

The official ``cohere`` client works unchanged (``co.embed(..., embedding_types=["float",
"int8", "ubinary"])``, v1 and v2). ``float`` rows are L2-normalised, as Cohere's are; the
other types quantize those unit rows (app.models.quantization): int8 and uint8 with the
per-dimension ranges of the calibration set, which ``/health`` shows. ``output_dimension``
cuts a Matryoshka model's vector and renormalises it before any quantization; other models
refuse it with a 400. ``meta.billed_units.input_tokens`` counts the tokens the model ran on.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET

from app.api.cohere.embed_schemas import (
    CohereEmbeddingsByType,
    CohereEmbedRequest,
    CohereEmbedResponse,
    CohereImageContent,
    EmbedBilledUnits,
    EmbedMeta,
)
from app.api.cohere.rerank_schemas import ApiVersion
from app.api.common.dense_types import dense_width, typed_rows, unit_dense
from app.api.common.encoding import respond
from app.api.common.errors import INFERENCE_ERRORS, error_responses
from app.api.common.inference import await_or_abandon, check_texts, embed_limits, runtime_of
from app.api.common.model_names import resolve_model
from app.api.common.priority import request_lane
from app.errors import InputTooLong, InvalidInput
from app.models.base import EmbeddingBackend, Head, TokenizedText, TruncationSide
from app.models.quantization import EmbeddingType
from app.runtime import Runtime

COHERE_EMBED_ENDPOINT = "cohere_embed"
_SIDES: dict[str, TruncationSide] = {"START": "left", "END": "right"}


def requested_texts(data: CohereEmbedRequest) -> tuple[list[str], str]:
    """The texts to embed and the field they came from (``texts`` or ``inputs``)."""
    if data.images is not UNSET:
        raise InvalidInput("images are not supported: this server embeds text", param="images")
    if data.texts is not UNSET and data.inputs is not UNSET:
        raise InvalidInput("give texts or inputs, not both", param="inputs")
    if data.texts is not UNSET:
        return data.texts, "texts"
    if data.inputs is UNSET:
        raise InvalidInput("nothing to embed: give texts (or v2's inputs)", param="texts")
    texts: list[str] = []
    for i, item in enumerate(data.inputs):
        (content,) = item.content
        if isinstance(content, CohereImageContent):
            raise InvalidInput(
                f"inputs[{i}].content[0] is an image: this server embeds text",
                param=f"inputs[{i}].content[0]",
            )
        texts.append(content.text)
    return texts, "inputs"


def truncation_messages(
    backend: EmbeddingBackend,
    tokenized: Sequence[TokenizedText],
    field: str,
    side: TruncationSide,
) -> list[str]:
    end = "start" if side == "left" else "end"
    return [
        f"{field}[{i}] has {text.original_tokens} tokens; {backend.name} takes "
        f"{backend.max_length}, so {text.original_tokens - len(text.ids)} were dropped from "
        f"its {end}"
        for i, text in enumerate(tokenized)
        if text.truncated
    ]


class CohereEmbedController(Controller):
    tags = ["cohere"]

    @post(
        ["/v1/embed", "/v2/embed"],
        status_code=200,
        summary="Dense embeddings by type (float, int8, uint8, binary, ubinary), Cohere shape",
        responses={
            200: ResponseSpec(CohereEmbedResponse, description="OK", generate_examples=False),
            **INFERENCE_ERRORS,
            **error_responses(404),
        },
    )
    async def embed(
        self, request: Request[Any, Any, Any], data: CohereEmbedRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        settings = runtime.settings
        texts, field = requested_texts(data)
        check_texts(texts, field, embed_limits(settings))
        scheduler = runtime.require_scheduler()
        backend = scheduler.models.by_head.get(Head.DENSE)
        if backend is None:
            raise InvalidInput("dense vectors are not available: no configured model gives them")
        # a name not served is a 404, one served for another role a 400 (Cohere's response
        # names no model)
        resolve_model(settings, scheduler.models, data.model, role="dense")
        width = dense_width(backend, data.output_dimension, "output_dimension")
        side = _SIDES.get(data.truncate, "right")
        try:
            outcome = await await_or_abandon(
                request,
                scheduler.embed(
                    texts,
                    frozenset({Head.DENSE}),
                    "query" if data.input_type == "search_query" else "document",
                    truncation_side=side,
                    truncate=data.truncate != "NONE",
                    lane=request_lane(request),
                ),
                settings.request_timeout,
            )
        except InputTooLong as exc:
            raise InvalidInput(
                f"{field}[{exc.index}] has {exc.tokens} tokens; {backend.name} takes "
                f"{exc.max_tokens} and truncate is NONE: shorten it, or send truncate END or "
                "START to cut it",
                param=f"{field}[{exc.index}]",
            ) from None
        dense = np.stack([np.asarray(item.dense, dtype=np.float32) for item in outcome.items])
        unit = unit_dense(dense, width)
        version = "2" if request.url.path.startswith("/v2") else "1"
        tokenized = [text for _, texts_of in outcome.tokenized for text in texts_of]
        meta = EmbedMeta(
            api_version=ApiVersion(version=version),
            billed_units=EmbedBilledUnits(input_tokens=sum(len(t.ids) for t in tokenized)),
        )
        warnings = truncation_messages(backend, tokenized, field, side)
        if warnings:
            meta.warnings = warnings
        floats_only = version == "1" and data.embedding_types is None
        body = CohereEmbedResponse(
            response_type="embeddings_floats" if floats_only else "embeddings_by_type",
            id=str(uuid.uuid4()),
            embeddings=unit.tolist()
            if floats_only
            else by_type(runtime, unit, data.embedding_types or ["float"]),
            texts=texts,
            meta=meta,
        )
        runtime.recorder.request_done(
            COHERE_EMBED_ENDPOINT, 200, time.perf_counter() - started, len(texts)
        )
        return respond(request, body)


def by_type(runtime: Runtime, unit: np.ndarray, kinds: Sequence[str]) -> CohereEmbeddingsByType:
    out = CohereEmbeddingsByType()
    for kind in dict.fromkeys(kinds):
        if kind == "float":
            out.float_ = unit.tolist()
        elif kind == "base64":
            out.base64 = [
                base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in unit
            ]
        else:
            quantized: EmbeddingType = kind  # type: ignore[assignment]  # the rest of the Literal
            setattr(out, kind, typed_rows(runtime, unit, quantized))
    return out
