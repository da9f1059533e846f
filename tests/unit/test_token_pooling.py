"""Hierarchical token pooling (app/models/token_pooling.py) on seeded vectors, against
scipy's Ward clustering of their cosine distances computed here in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from app.models.token_pooling import pool_tokens, pooled_count


def token_like(rows: int, dim: int, seed: int) -> np.ndarray:
    """Unit rows in loose groups, as a passage's token vectors are (repeated subwords, one
    topic), so that clusters exist to be found."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(rows // 4, 1), dim))
    vectors = centres[rng.integers(0, len(centres), rows)] + 0.6 * rng.standard_normal((rows, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(("rows", "dim"), [(7, 16), (60, 32), (299, 128)])
@pytest.mark.parametrize("factor", [2, 3, 4, 7])
def test_the_clusters_and_means_of_wards_linkage(rows: int, dim: int, factor: int) -> None:
    vectors = token_like(rows, dim, seed=rows + factor)
    tree = linkage(pdist(vectors.astype(np.float64), "cosine"), method="ward")
    labels = fcluster(tree, t=max(rows // factor, 1), criterion="maxclust")
    expected = np.stack([vectors[labels == k].mean(axis=0) for k in np.unique(labels)])
    pooled = pool_tokens(vectors, factor)
    assert pooled.dtype == np.float32
    assert pooled.shape == expected.shape  # the same clusters, in fcluster's label order
    np.testing.assert_allclose(pooled, expected, atol=1e-6, rtol=0)
    assert len(pooled) <= -(-rows // factor)


def test_nothing_to_merge_comes_back_as_it_is() -> None:
    vectors = token_like(5, 8, seed=1)
    assert pool_tokens(vectors, 1) is vectors
    assert len(pool_tokens(vectors[:1], 4)) == 1
    assert pooled_count(5, 1) == 5 and pooled_count(5, 2) == 2 and pooled_count(5, 64) == 1
    one = pool_tokens(vectors, 64)  # every row in one cluster: their mean
    np.testing.assert_allclose(one, vectors.mean(axis=0, keepdims=True), atol=1e-6)
