"""OpenAI-compatible routes (SPEC §1.2): ``POST /v1/embeddings`` and ``GET /v1/models``.

The official ``openai`` client pointed at ``base_url=…/v1`` works unchanged. Dense vectors
leave L2-normalised, as OpenAI's do (cosine similarity = dot product); the native API keeps
the original service's unnormalised default. ``dimensions`` truncates a Matryoshka model's
vector and renormalises it; other models refuse it with a 400.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from app.api.common.dense_types import dense_width, unit_dense
from app.api.common.encoding import respond
from app.api.common.errors import INFERENCE_ERRORS, error_responses
from app.api.common.inference import (
    await_or_abandon,
    check_text,
    check_texts,
    embed_limits,
    input_warnings,
    prompt_tokens,
    runtime_of,
)
from app.api.common.model_names import (
    ServedBackend,
    not_found,
    resolve_model,
    served_models,
)
from app.api.common.priority import request_lane
from app.api.native.chunking import late_chunked_dense
from app.api.openai.schemas import (
    OpenAIEmbedding,
    OpenAIEmbeddingRequest,
    OpenAIEmbeddingResponse,
    OpenAIModel,
    OpenAIModelList,
    OpenAIUsage,
)
from app.errors import InvalidInput, NotReady
from app.models.base import Head
from app.models.catalog import ModelSet
from app.runtime import Runtime
from app.security.apikeys import key_of

OPENAI_EMBED_ENDPOINT = "openai_embeddings"


def requested_texts(data: OpenAIEmbeddingRequest, runtime: Runtime) -> list[str]:
    """The texts of ``input``, checked against the limits; token-id arrays are refused."""
    settings = runtime.settings
    raw = data.input
    if isinstance(raw, str):
        check_text(raw, "input", embed_limits(settings))
        return [raw]
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            where = "input" if isinstance(item, int) else f"input[{i}]"
            raise InvalidInput(
                f"{where} is a token-id array; this server embeds text: send a string "
                "or a list of strings",
                param=where,
            )
    texts: list[str] = raw  # type: ignore[assignment]  # every item was checked above
    check_texts(texts, "input", embed_limits(settings))
    return texts


def encode_vector(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    values: list[float] = vector.tolist()
    return values


def model_ids(runtime: Runtime) -> dict[str, Any]:
    """``model_id``'s schema: a name served here (any other is a 404); any string while the
    models load."""
    if runtime.models is None:
        return {"type": "string"}
    served = served_models(runtime.settings, runtime.models)
    names = [name for entry in served for name in entry.names]
    return {"type": "string", "enum": names, "description": "A name GET /v1/models lists"}


class OpenAIController(Controller):
    path = "/v1"
    tags = ["openai"]

    @post(
        "/embeddings",
        status_code=200,
        summary="Dense embeddings, OpenAI shape",
        responses={
            200: ResponseSpec(OpenAIEmbeddingResponse, description="OK", generate_examples=False),
            **INFERENCE_ERRORS,
            **error_responses(404),
        },
    )
    async def create_embeddings(
        self, request: Request[Any, Any, Any], data: OpenAIEmbeddingRequest
    ) -> Response[bytes]:
        started = time.perf_counter()
        runtime = runtime_of(request)
        texts = requested_texts(data, runtime)
        scheduler = runtime.require_scheduler()
        backend = scheduler.models.by_head.get(Head.DENSE)
        if backend is None:
            raise InvalidInput("dense vectors are not available: no configured model gives them")
        model_name = resolve_model(runtime.settings, scheduler.models, data.model, role="dense")
        keep = dense_width(backend, data.dimensions, "dimensions")
        lane = request_lane(request)
        if data.late_chunking:
            dense, tokens = await late_chunked_dense(
                request, runtime, backend, texts, data.input_type, lane
            )
            warnings = []
        else:
            outcome = await await_or_abandon(
                request,
                scheduler.embed(texts, frozenset({Head.DENSE}), data.input_type, lane=lane),
                runtime.settings.request_timeout,
            )
            dense = np.stack([np.asarray(item.dense, dtype=np.float32) for item in outcome.items])
            tokens = prompt_tokens(outcome.tokenized)
            warnings = input_warnings(outcome.tokenized, "input")
        vectors = unit_dense(dense, keep)
        body = OpenAIEmbeddingResponse(
            data=[
                OpenAIEmbedding(index=i, embedding=encode_vector(row, data.encoding_format))
                for i, row in enumerate(vectors)
            ],
            model=model_name,
            usage=OpenAIUsage(prompt_tokens=tokens, total_tokens=tokens),
        )
        if warnings:
            body.warnings = warnings
        runtime.recorder.request_done(
            OPENAI_EMBED_ENDPOINT,
            200,
            time.perf_counter() - started,
            len(texts),
            tokens=tokens,
            key=key_of(request.scope),
        )
        return respond(request, body)

    @get(
        "/models",
        summary="Served models, OpenAI list shape",
        responses={
            200: ResponseSpec(OpenAIModelList, description="OK", generate_examples=False),
            **error_responses(401, 429, 503),
        },
    )
    async def list_models(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        runtime = runtime_of(request)
        return respond(request, OpenAIModelList(data=describe_models(runtime)))

    @get(
        "/models/{model_id:path}",
        summary="One served model",
        opt={"path_parameters": {"model_id": model_ids}},
        responses={
            200: ResponseSpec(OpenAIModel, description="OK", generate_examples=False),
            **error_responses(401, 404, 429, 503),
        },
    )
    async def retrieve_model(
        self, request: Request[Any, Any, Any], model_id: str
    ) -> Response[bytes]:
        runtime = runtime_of(request)
        served = served_models(runtime.settings, _loaded(runtime))
        # a path param keeps its leading slash; local-directory names start with one too
        wanted = model_id.lstrip("/")
        for entry in served:
            for name in entry.names:
                if name.lstrip("/") == wanted:
                    return respond(request, _describe(runtime, entry, name))
        raise not_found(served, wanted)


def _loaded(runtime: Runtime) -> ModelSet:
    if runtime.models is None:
        raise NotReady("models are still loading; retry shortly", retry_after=5)
    return runtime.models


def describe_models(runtime: Runtime) -> list[OpenAIModel]:
    """One entry per served name (as vLLM lists each ``--served-model-name``), each model's
    names together in their order; ``root`` says which model a name belongs to."""
    return [
        _describe(runtime, entry, name)
        for entry in served_models(runtime.settings, _loaded(runtime))
        for name in entry.names
    ]


def _describe(runtime: Runtime, entry: ServedBackend, name: str) -> OpenAIModel:
    backend = entry.backend
    return OpenAIModel(
        id=name,
        created=int(runtime.started_at),
        owned_by="smart-embedder",
        root=entry.root,
        roles=list(entry.roles),
        kind=backend.info.kind,
        max_length=backend.max_length,
        dimension=backend.info.dimension,
        supports_dimensions=bool(getattr(backend, "supports_dimensions", False)),
    )
