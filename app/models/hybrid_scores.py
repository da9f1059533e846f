"""bge-m3's three relevance scores of a query and a passage, and their weighted sum, as
FlagEmbedding's ``BGEM3FlagModel.compute_score`` defines them (tests/api check parity):

- dense: the cosine of the two CLS vectors (compute_score L2-normalises them first);
- sparse: the dot product of the two lexical-weight vectors (each token id's highest weight,
  special tokens dropped), over the ids both texts have;
- ColBERT: for each query vector (every token after CLS), its best dot product with a
  passage vector, averaged over the query's vectors (the vectors are unit length);
- the hybrid score: ``(w_dense * dense + w_sparse * sparse + w_colbert * colbert) /
  (w_dense + w_sparse + w_colbert)``.

One difference, on purpose: compute_score takes the ColBERT maximum over a passage's padded
batch too, where a padding row (a zero vector) scores 0, so a query token whose best match is
negative scores 0 or its best match depending on which passages share its batch. Here the
maximum is over the passage's own vectors only, as ``BGEM3FlagModel.colbert_score`` has it:
the score of a pair never depends on the other passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.models.base import ItemEmbedding

DEFAULT_WEIGHTS = (0.4, 0.2, 0.4)


@dataclass(frozen=True, slots=True)
class HybridScores:
    dense: np.ndarray
    sparse: np.ndarray
    colbert: np.ndarray
    combined: np.ndarray


def hybrid_scores(
    query: ItemEmbedding,
    passages: Sequence[ItemEmbedding],
    weights: Sequence[float] = DEFAULT_WEIGHTS,
) -> HybridScores:
    """Each passage's scores against ``query``; every item needs all three heads."""
    w_dense, w_sparse, w_colbert = weights
    dense = np.array([_cosine(query, p) for p in passages], dtype=np.float64)
    sparse = np.array([_lexical_match(query, p) for p in passages], dtype=np.float64)
    colbert = np.array([_late_interaction(query, p) for p in passages], dtype=np.float64)
    combined = (w_dense * dense + w_sparse * sparse + w_colbert * colbert) / sum(weights)
    return HybridScores(dense=dense, sparse=sparse, colbert=colbert, combined=combined)


def _cosine(query: ItemEmbedding, passage: ItemEmbedding) -> float:
    assert query.dense is not None and passage.dense is not None
    q, p = query.dense.astype(np.float64), passage.dense.astype(np.float64)
    norms = float(np.linalg.norm(q) * np.linalg.norm(p))
    return float(q @ p) / norms if norms > 0 else 0.0


def _lexical_match(query: ItemEmbedding, passage: ItemEmbedding) -> float:
    assert query.sparse is not None and passage.sparse is not None
    _, in_query, in_passage = np.intersect1d(
        query.sparse.indices, passage.sparse.indices, assume_unique=True, return_indices=True
    )
    q = query.sparse.values[in_query].astype(np.float64)
    return float(q @ passage.sparse.values[in_passage].astype(np.float64))


def _late_interaction(query: ItemEmbedding, passage: ItemEmbedding) -> float:
    assert query.colbert is not None and passage.colbert is not None
    q, p = query.colbert.astype(np.float64), passage.colbert.astype(np.float64)
    if not len(q) or not len(p):
        return 0.0
    return float((q @ p.T).max(axis=1).sum() / len(q))
