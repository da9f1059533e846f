"""Which model a rerank request is scored by: the configured reranker (a cross-encoder), or
bge-m3's hybrid score (dense + sparse + ColBERT, ``app.models.hybrid_scores``).

bge-m3 reranks when a request names it in ``model`` (``/v1/rerank``, the native ``/rerank``),
or when a request names no model and ``RERANK_WITH_BGE_M3`` is on (every rerank route, TEI's
too). Both give a ``RerankOutcome``, so that a route scores, sorts and warns the same way
whichever model it got. A hybrid score is not a logit: ``normalize`` leaves it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.api.common.inference import pair_warnings
from app.api.common.model_names import find_model, resolve_model, served_models
from app.api.common.schemas import ApiWarning
from app.errors import InvalidInput
from app.models.base import EmbeddingBackend, Head, RerankBackend, TokenizedPair, TruncationSide
from app.models.catalog import ModelSet
from app.models.hybrid_scores import DEFAULT_WEIGHTS, hybrid_scores
from app.scheduler.outcomes import EmbedOutcome, RerankOutcome
from app.scheduler.priorities import DEFAULT_LANE, Lane
from app.scheduler.scheduler import Scheduler
from app.settings import Settings

ALL_HEADS = frozenset(Head)


def hybrid_backend(models: ModelSet) -> EmbeddingBackend | None:
    """The bge-m3 model, where one is loaded (it is the only ColBERT source)."""
    backend = models.by_head.get(Head.COLBERT)
    return backend if backend is not None and backend.kind == "bge-m3" else None


async def embed_once(
    scheduler: Scheduler,
    backend: EmbeddingBackend,
    query: str,
    passages: Sequence[str],
    *,
    truncation_side: TruncationSide | None = None,
    truncate: bool = True,
    lane: Lane = DEFAULT_LANE,
) -> tuple[EmbedOutcome, list[int]]:
    """Every distinct text of a query and its passages through bge-m3 once, all three heads,
    as one request; and where each text sits in it (0 is the query)."""
    distinct = list(dict.fromkeys([query, *passages]))
    where = {text: i for i, text in enumerate(distinct)}
    # bge-m3 prompts neither side, so the query rides in the passages' request
    outcome = await scheduler.embed(
        distinct,
        ALL_HEADS,
        "document",
        truncation_side=truncation_side,
        truncate=truncate,
        backend=backend,
        lane=lane,
    )
    return outcome, [where[p] for p in passages]


@dataclass
class Reranker:
    """One request's scorer: the cross-encoder, or bge-m3's hybrid score."""

    #: the model's own name (the native route's ``model_name``, warnings)
    name: str
    #: the name the request knows it by (``/v1/rerank``'s ``model``)
    served_name: str
    max_length: int
    cross_encoder: RerankBackend | None
    bge_m3: EmbeddingBackend | None = None

    async def rerank(
        self,
        scheduler: Scheduler,
        query: str,
        passages: Sequence[str],
        *,
        truncation_side: TruncationSide | None = None,
        truncate: bool = True,
        lane: Lane = DEFAULT_LANE,
    ) -> RerankOutcome:
        if self.bge_m3 is None:
            return await scheduler.rerank(
                query, passages, truncation_side=truncation_side, truncate=truncate, lane=lane
            )
        outcome, where = await embed_once(
            scheduler,
            self.bge_m3,
            query,
            passages,
            truncation_side=truncation_side,
            truncate=truncate,
            lane=lane,
        )
        items = outcome.items
        scores = hybrid_scores(items[0], [items[i] for i in where], DEFAULT_WEIGHTS)
        ((_, tokens),) = outcome.tokenized
        q = tokens[0]
        # each text is cut to the model's length on its own; a pair's ids are both texts'
        pairs = [
            TokenizedPair(
                ids=q.ids + tokens[i].ids,
                query_tokens=q.original_tokens,
                query_kept=len(q.ids),
                passage_tokens=tokens[i].original_tokens,
                passage_kept=len(tokens[i].ids),
            )
            for i in where
        ]
        return RerankOutcome(scores=scores.combined.astype(np.float32), pairs=pairs)

    def normalize(self, raw: np.ndarray, normalize: bool) -> np.ndarray:
        if self.cross_encoder is None:
            return raw
        return self.cross_encoder.normalize(raw, normalize)

    def warnings(
        self, outcome: RerankOutcome, *, query_field: str, passage_field: str
    ) -> list[ApiWarning]:
        return pair_warnings(
            outcome.pairs,
            model=self.name,
            max_tokens=self.max_length,
            query_field=query_field,
            passage_field=passage_field,
        )


def choose_reranker(settings: Settings, models: ModelSet, requested: str | None) -> Reranker:
    """The scorer of a rerank request that names ``requested`` (None: no ``model``).

    A name no model answers to is a 404 that lists the served names; a served model that
    cannot rerank is a 400 that says which can."""
    bge_m3 = hybrid_backend(models)
    if bge_m3 is not None:
        if requested is not None:
            named = find_model(served_models(settings, models), requested)
            if named is not None and named.backend is bge_m3:
                # bge-m3 may answer to several roles' names: the response says the one asked
                return Reranker(bge_m3.name, requested, bge_m3.max_length, None, bge_m3)
        elif settings.rerank_with_bge_m3:
            served = served_models(settings, models)
            name = next(entry.name for entry in served if entry.backend is bge_m3)
            return Reranker(bge_m3.name, name, bge_m3.max_length, None, bge_m3)
    reranker = models.reranker
    if reranker is None:
        hint = "; name bge-m3 in model, or set RERANK_WITH_BGE_M3=true" if bge_m3 else ""
        raise InvalidInput(
            f"reranking is not available: no reranker model is configured{hint}", param="model"
        )
    name = resolve_model(settings, models, requested, role="rerank")
    return Reranker(reranker.name, name, reranker.max_length, reranker)
