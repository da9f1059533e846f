"""TEI's ``GET /info``, and ``POST /`` and ``POST /invocations`` (SageMaker's path), which TEI
answers as the route of its served model's type: ``/embed`` for an embedding model (this
server's dense model; ``/embed_sparse`` where only a sparse model is served), ``/rerank``
where only a reranker is. This server may serve a reranker beside its embedding models, so a
body in TEI's rerank shape (``texts``) is reranked whatever else is served, as TEI's Vertex
route tells the bodies apart."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from app import __version__
from app.api.common.encoding import respond
from app.api.common.inference import runtime_of
from app.api.common.model_names import served_models
from app.api.tei.embed import embed_dense, embed_sparse
from app.api.tei.errors import TEI_ERRORS, TEI_OPT, NotServed, tei_error_responses
from app.api.tei.inputs import body_json, convert_body, primary_backend
from app.api.tei.rerank import tei_rerank
from app.api.tei.schemas import (
    TeiClassifierModel,
    TeiEmbeddingModel,
    TeiEmbedRequest,
    TeiInfo,
    TeiInputsRequest,
    TeiModelType,
    TeiRank,
    TeiRerankRequest,
    TeiSparseValue,
)
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.catalog import ModelSet
from app.paths import name_endpoint
from app.runtime import Runtime
from app.scheduler.scheduler import TOKENIZE_WORKERS

#: what ``POST /`` answers: ``/embed``'s, ``/embed_sparse``'s or ``/rerank``'s body
RootResponse: Any = list[list[float]] | list[list[TeiSparseValue]] | list[TeiRank]
#: TEI's pooling names, for the backends that do not name theirs in ``info.extra``
_POOLING = {"bge-m3": "cls", "splade": "splade"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def root_body(models: ModelSet | None) -> dict[str, Any]:
    """The OpenAPI schema of ``POST /``'s body with these models loaded (all of them before)."""
    rerank = _ref(TeiRerankRequest.__name__)
    heads = set(models.by_head) if models is not None else {Head.DENSE}
    served_reranker = models is None or models.reranker is not None
    if Head.DENSE in heads:
        embedding = TeiEmbedRequest.__name__
    elif Head.SPARSE in heads:
        embedding = TeiInputsRequest.__name__
    else:
        return rerank
    # A body with ``texts`` is a rerank body, so an embedding body has none.
    options: list[dict[str, Any]] = [{"allOf": [_ref(embedding)], "not": {"required": ["texts"]}}]
    if served_reranker:
        options.append(rerank)
    return {"oneOf": options} if len(options) > 1 else options[0]


def _dtype(runtime: Runtime) -> str:
    """The weights' dtype as the engine resolves ``DTYPE=auto`` (app.models.runtime)."""
    setting = runtime.settings.dtype
    if setting != "auto":
        return setting
    if not runtime.device.startswith("cuda"):
        return "float32"
    capability = str((runtime.gpu or {}).get("capability") or "0.0")
    return "bfloat16" if int(capability.partition(".")[0]) >= 8 else "float16"


def describe(runtime: Runtime) -> TeiInfo:
    scheduler = runtime.require_scheduler()
    models, settings = scheduler.models, runtime.settings
    backend = primary_backend(models)
    reranker = models.reranker
    model: EmbeddingBackend | RerankBackend
    if backend is not None:
        pooling = backend.info.extra.get("pooling") or _POOLING.get(backend.info.kind, "cls")
        model_type = TeiModelType(embedding=TeiEmbeddingModel(pooling=str(pooling)))
        model, max_input, max_client = (
            backend,
            backend.max_length,
            settings.max_sentences_per_request,
        )
        concurrent = settings.max_queue_size
    else:
        assert reranker is not None  # a model set always has a model
        label = str(reranker.info.extra.get("label", "LABEL_0"))
        model_type = TeiModelType(
            reranker=TeiClassifierModel(id2label={"0": label}, label2id={label: 0})
        )
        model, max_input, max_client = reranker, reranker.max_length, settings.max_rerank_passages
        concurrent = settings.rerank_max_queue
    beside = reranker if backend is not None and reranker is not None else None
    names = {id(entry.backend): entry.name for entry in served_models(settings, models)}
    return TeiInfo(
        model_id=model.name,
        served_model_name=names.get(id(model), model.name),
        model_sha=settings.model_revision or None,
        model_dtype=_dtype(runtime),
        model_type=model_type,
        max_concurrent_requests=concurrent,
        max_input_length=max_input,
        max_batch_tokens=scheduler.limits.max_tokens,
        max_batch_requests=scheduler.limits.max_items,
        max_client_batch_size=max_client,
        auto_truncate=True,
        tokenization_workers=TOKENIZE_WORKERS,
        version=__version__,
        reranker_id=beside.name if beside is not None else None,
        reranker_max_input_length=beside.max_length if beside is not None else None,
    )


class TeiRootController(Controller):
    tags = ["tei"]
    opt = TEI_OPT

    @get(
        "/info",
        summary="The served model, TEI shape",
        description="TEI's fields, for the dense model (else the sparse one; a reranker where "
        "only one is served): `served_model_name` is its first served name (the one responses "
        "report, `*_SERVED_MODEL_NAME`); `reranker_id` names the reranker served beside it. "
        "`auto_truncate` is true: an over-long text is cut unless `truncate: false`.",
        responses={
            200: ResponseSpec(TeiInfo, description="OK", generate_examples=False),
            **tei_error_responses(401, 403, 429, 503),
        },
    )
    async def info(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        return respond(request, describe(runtime_of(request)))

    @post(
        ["/", "/invocations"],
        status_code=200,
        summary="TEI's default route: as /embed (or /rerank for a rerank body)",
        description="Answered as `/embed` for the dense model (`/embed_sparse` where only a "
        "sparse model is served); a body with `texts` (TEI's rerank body) as `/rerank`.",
        opt={
            "documented_bodies": (TeiEmbedRequest, TeiInputsRequest, TeiRerankRequest),
            "request_body": root_body,
        },
        responses={
            200: ResponseSpec(RootResponse, description="OK", generate_examples=False),
            **TEI_ERRORS,
        },
    )
    async def invocations(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        raw = await body_json(request)
        models = runtime_of(request).require_scheduler().models
        state = request.scope["state"]
        if isinstance(raw, dict) and "texts" in raw:
            name_endpoint(state, "tei_rerank")
            return await tei_rerank(request, convert_body(raw, TeiRerankRequest))
        if Head.DENSE in models.by_head:
            return await embed_dense(request, convert_body(raw, TeiEmbedRequest))
        if Head.SPARSE in models.by_head:
            name_endpoint(state, "tei_embed_sparse")
            return await embed_sparse(request, convert_body(raw, TeiInputsRequest))
        if models.reranker is not None:
            name_endpoint(state, "tei_rerank")
            return await tei_rerank(request, convert_body(raw, TeiRerankRequest))
        raise NotServed("no served model answers POST / (no dense, sparse or reranker model)")
