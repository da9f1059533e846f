"""Long documents: ``chunking`` on the native ``POST /embeddings/``, and Jina's
``late_chunking`` flag on OpenAI's ``POST /v1/embeddings``.

Which model chunks, the checks whose 422 names the field, and the chunks of the answer. The
cutting and the passes are ``app.models.chunk_passes``'; the scheduler runs a request's passes
as one yielding job (``Scheduler.embed_documents``), and the engine pools each chunk, so only
the chunks' vectors cross the wire.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np
from litestar import Request
from msgspec import UnsetType

from app.api.common.inference import TextLimits, await_or_abandon
from app.api.native.chunking_schemas import DEFAULT_CHUNK_TOKENS, ChunkingOptions
from app.api.native.schemas import (
    Chunk,
    ColbertInfo,
    EmbeddingItem,
    EmbeddingRequest,
    Embeddings,
)
from app.errors import InvalidInput, UnprocessableInput
from app.models.base import EmbeddingBackend, Head, InputType, ItemEmbedding
from app.models.catalog import ModelSet
from app.models.chunk_passes import chunk_token_limit, plan_documents, plan_given
from app.runtime import Runtime
from app.scheduler.priorities import DEFAULT_LANE, Lane
from app.settings import Settings

_HEADS = (Head.DENSE, Head.SPARSE, Head.COLBERT)


def document_limits(settings: Settings) -> TextLimits:
    """The bounds of documents sent for chunking: MAX_DOCUMENT_CHARS each and in all."""
    return TextLimits(
        settings.max_sentences_per_request,
        settings.max_document_chars,
        settings.max_document_chars,
        "MAX_SENTENCES_PER_REQUEST",
        "MAX_DOCUMENT_CHARS",
        "MAX_DOCUMENT_CHARS",
    )


def require_token_states(backend: EmbeddingBackend, field: str) -> None:
    if not backend.pools_spans:
        raise UnprocessableInput(
            f"{field} needs a model whose vectors pool its token states (bge-m3, or a "
            f"mean-pooled sentence-transformers model); {backend.name} ({backend.info.kind}) "
            "has none to pool",
            param=field,
        )


def chunker(models: ModelSet) -> EmbeddingBackend | None:
    """The model chunks come from: the first of the models serving dense, sparse and ColBERT
    vectors whose vectors pool token states (None: none does)."""
    for head in _HEADS:
        backend = models.by_head.get(head)
        if backend is not None and backend.pools_spans:
            return backend
    return None


def chunking_model(
    data: EmbeddingRequest, models: ModelSet
) -> tuple[EmbeddingBackend, frozenset[Head]]:
    """The one model every chunk's vectors come from, and the heads it computes: those it
    serves that the request did not turn off. A head asked for by name that another model
    serves is a 422: one set of chunks is cut with one tokenizer."""
    backend = chunker(models)
    if backend is None:
        served = ", ".join(
            f"{b.name} ({b.info.kind})" for b in dict.fromkeys(models.by_head.values())
        )
        raise UnprocessableInput(
            "chunking needs a model whose vectors pool its token states (bge-m3, or a "
            f"mean-pooled sentence-transformers model); none served here does: {served}",
            param="chunking",
        )
    flags = {Head.DENSE: data.return_dense, Head.SPARSE: data.return_sparse}
    flags[Head.COLBERT] = data.return_colbert
    heads = set()
    for head in _HEADS:
        serving = models.by_head.get(head)
        if serving is backend:
            if flags[head] is not False:
                heads.add(head)
        elif flags[head] is True:
            if serving is None:
                raise InvalidInput(
                    f"{head.value} vectors are not available: no configured model gives them",
                    param=f"return_{head.value}",
                )
            why = "" if serving.pools_spans else ", which has no token states to pool"
            raise UnprocessableInput(
                f"with chunking every vector comes from {backend.name}, and return_{head.value}"
                f" asks for {head.value} vectors from {serving.name} ({serving.info.kind}){why}",
                param="chunking",
            )
    if not heads:
        fields = ", ".join(f"return_{h.value}" for h in _HEADS if models.by_head.get(h) is backend)
        raise InvalidInput(
            f"nothing to compute: with chunking the vectors come from {backend.name}, and "
            f"{fields} are false"
        )
    return backend, frozenset(heads)


def chunk_size(
    options: ChunkingOptions, backend: EmbeddingBackend, input_type: InputType
) -> tuple[int, int]:
    """(max_tokens, overlap_tokens), checked against the model."""
    limit = chunk_token_limit(backend, input_type)
    max_tokens = options.max_tokens or min(DEFAULT_CHUNK_TOKENS, limit)
    if max_tokens > limit:
        raise UnprocessableInput(
            f"chunking.max_tokens is {max_tokens}, over what {backend.name} takes in one "
            f"chunk: at most {limit} tokens (its limit of {backend.max_length} less its special "
            "tokens)",
            param="chunking.max_tokens",
        )
    if options.overlap_tokens >= max_tokens:
        raise UnprocessableInput(
            f"chunking.overlap_tokens ({options.overlap_tokens}) must be less than max_tokens "
            f"({max_tokens})",
            param="chunking.overlap_tokens",
        )
    return max_tokens, options.overlap_tokens


async def chunked_items(
    request: Request[Any, Any, Any],
    data: EmbeddingRequest,
    runtime: Runtime,
    convert: Callable[
        [Sequence[ItemEmbedding]], Awaitable[list[tuple[Embeddings, ColbertInfo | UnsetType]]]
    ],
    lane: Lane = DEFAULT_LANE,
) -> tuple[list[EmbeddingItem], int]:
    """The native route's items with ``chunking`` (its texts checked against
    ``document_limits``), and the tokens their passes ran."""
    options = data.chunking
    assert options is not None
    settings = runtime.settings
    scheduler = runtime.require_scheduler()
    backend, heads = chunking_model(data, scheduler.models)
    max_tokens, overlap = chunk_size(options, backend, data.input_type)
    prepare = functools.partial(
        plan_documents, backend, data.sentences, data.input_type, max_tokens, overlap, options.late
    )
    documents = await await_or_abandon(
        request,
        scheduler.embed_documents(backend, heads, prepare, lane),
        settings.request_timeout,
    )
    items = []
    for i, (text, (passes, embedded)) in enumerate(zip(data.sentences, documents, strict=True)):
        converted = await convert(embedded)
        chunks = [
            Chunk(
                index=k,
                text=text[chunk.start : chunk.end],
                start=chunk.start,
                end=chunk.end,
                tokens=tokens,
                embeddings=embeddings,
                colbert_info=info,
            )
            for k, (chunk, tokens, (embeddings, info)) in enumerate(
                zip(passes.document.chunks, passes.tokens, converted, strict=True)
            )
        ]
        items.append(EmbeddingItem(id=i, text=text, embeddings=Embeddings(), chunks=chunks))
    tokens = sum(len(p.ids) for passes, _ in documents for p in passes.payloads)
    return items, tokens


async def late_chunked_dense(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    backend: EmbeddingBackend,
    pieces: Sequence[str],
    input_type: InputType,
    lane: Lane = DEFAULT_LANE,
) -> tuple[np.ndarray, int]:
    """Jina's ``late_chunking``: the inputs as consecutive chunks of one document, one dense
    vector per input in order, and the tokens the passes ran."""
    require_token_states(backend, "late_chunking")
    scheduler = runtime.require_scheduler()
    prepare = functools.partial(plan_given, backend, pieces, input_type)
    ((passes, embedded),) = await await_or_abandon(
        request,
        scheduler.embed_documents(backend, frozenset({Head.DENSE}), prepare, lane),
        runtime.settings.request_timeout,
    )
    dense = np.stack([np.asarray(e.dense, dtype=np.float32) for e in embedded])
    return dense, sum(len(p.ids) for p in passes.payloads)
