"""Hierarchical token pooling of a document's ColBERT vectors (Clavié, Chaffin, Adams 2024,
arXiv:2409.14683): cluster the rows by Ward linkage on their cosine distances, cut the tree
into ``max(rows // factor, 1)`` clusters and keep each cluster's mean.

The recipe is PyLate's (``ColBERT.pool_embeddings_hierarchical``, the paper's authors'
library), run by scipy's ``linkage`` and ``fcluster``: the same input gives the same clusters
and the same means (tests/api/test_colbert_options.py checks it against scipy on the server's
own vectors). Two things differ on purpose:

- no row is protected from pooling: PyLate's models keep their [CLS] vector first and set it
  aside; bge-m3's ColBERT head has already dropped CLS (one row per token after it), so every
  row it gives is a token's and is pooled;
- the means are returned in float32, computed in float64 (PyLate sums in the rows' dtype).

Means of unit vectors are shorter than 1, and stay so: a wide cluster weighs less in MaxSim,
as in the paper. Pure numpy and scipy, run in the API process on rows the engine returned.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from threadpoolctl import ThreadpoolController

#: the largest factor a request may ask for: beyond it a passage keeps a handful of vectors
MAX_POOL_FACTOR = 64
#: numpy's BLAS, held to one thread for a passage's similarity matrix: a 300 x 300 product is
#: too small to share, and spread over BLAS's threads on a busy 2-core machine it took 10x
#: the CPU (32 ms against 2 ms, BENCHMARKS.md) and took cores from the engine
_BLAS = ThreadpoolController()


def pooled_count(rows: int, factor: int) -> int:
    """How many clusters ``rows`` vectors are cut into at ``factor`` (at most)."""
    return max(rows // factor, 1) if factor > 1 else rows


def pool_tokens(rows: np.ndarray, factor: int) -> np.ndarray:
    """``rows`` (unit float32 vectors, one per token) pooled by ``factor``: at most
    ``max(len(rows) // factor, 1)`` rows, each the mean of one cluster, in cluster order
    (fcluster's labels). A factor of 1, or rows too few to merge, come back as they are."""
    count = len(rows)
    clusters = pooled_count(count, factor)
    if clusters >= count:
        return rows
    labels = cluster_labels(rows, clusters)
    return cluster_means(rows, labels)


def cluster_labels(rows: np.ndarray, clusters: int) -> np.ndarray:
    """Each row's cluster (0-based, at most ``clusters`` of them): Ward linkage on the
    condensed matrix of cosine distances (1 - dot product of the unit rows)."""
    with _BLAS.limit(limits=1, user_api="blas"):
        distances = 1.0 - rows @ rows.T
    tree = linkage(distances[np.triu_indices(len(rows), k=1)], method="ward")
    labels: np.ndarray = fcluster(tree, t=clusters, criterion="maxclust") - 1
    return labels


def cluster_means(rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean of each cluster's rows, by label; a label fcluster left empty gives no row."""
    order = np.argsort(labels, kind="stable")
    _, starts, members = np.unique(labels[order], return_index=True, return_counts=True)
    sums = np.add.reduceat(rows[order].astype(np.float64), starts, axis=0)
    means: np.ndarray = (sums / members[:, None]).astype(np.float32)
    return means
