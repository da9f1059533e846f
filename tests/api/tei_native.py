"""The reference for the TEI route tests: the native API's answer for the same texts, over
the same HTTP client (``POST /embeddings/``, ``POST /rerank``)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

#: the tiny bge-m3's hidden size, and the tiny models' token limit (<s> and </s> included)
DIM = 32
MAX_TOKENS = 512
#: vectors of one text batched with different neighbours differ in the last float bits
ATOL = 1e-5

QUERY = "what do cats eat"
# different lengths, so a batch is padded and any mix-up of rows shows
TEXTS = [
    "Cats are obligate carnivores and eat mostly meat.",
    "The central bank raised interest rates.",
    "kittens",
    "A recipe for tomato soup with basil, garlic and a little cream, served hot.",
]


def native_items(http: httpx.Client, texts: list[str]) -> list[dict[str, Any]]:
    r = http.post("/embeddings/", json={"sentences": texts, "sparse_as_indices": True})
    assert r.status_code == 200, r.text
    return [item["embeddings"] for item in r.json()["data"]]


def native_dense(http: httpx.Client, texts: list[str], *, normalize: bool = True) -> np.ndarray:
    dense = np.array([item["dense"] for item in native_items(http, texts)])
    assert dense.shape == (len(texts), DIM)
    return dense / np.linalg.norm(dense, axis=1, keepdims=True) if normalize else dense


def native_sparse(http: httpx.Client, texts: list[str]) -> list[dict[int, float]]:
    sparse = [item["sparse"] for item in native_items(http, texts)]
    return [dict(zip(s["indices"], s["values"], strict=True)) for s in sparse]


def native_colbert(http: httpx.Client, texts: list[str]) -> list[np.ndarray]:
    return [np.array(item["colbert"]) for item in native_items(http, texts)]


def native_scores(
    http: httpx.Client, query: str, texts: list[str], *, normalize: bool
) -> np.ndarray:
    """Each text's score in input order (the native route answers highest first)."""
    r = http.post("/rerank", json={"query": query, "passages": texts, "normalize": normalize})
    assert r.status_code == 200, r.text
    scores = np.full(len(texts), np.nan)
    for result in r.json()["results"]:
        scores[result["index"]] = result["score"]
    return scores


def as_sparse(entries: list[dict[str, Any]]) -> dict[int, float]:
    """TEI's ``[{index, value}]`` as a dict; the indices must be ascending ints."""
    indices = [entry["index"] for entry in entries]
    assert all(type(i) is int for i in indices) and indices == sorted(set(indices)), indices
    assert all(set(entry) == {"index", "value"} for entry in entries)
    return {entry["index"]: entry["value"] for entry in entries}


def assert_sparse_equal(got: dict[int, float], want: dict[int, float]) -> None:
    assert got.keys() == want.keys()
    np.testing.assert_allclose([got[i] for i in want], list(want.values()), atol=ATOL)


def ranked_scores(ranks: list[dict[str, Any]], count: int) -> np.ndarray:
    """TEI's ranks (highest first, every text once) as scores in input order."""
    assert sorted(rank["index"] for rank in ranks) == list(range(count))
    listed = [rank["score"] for rank in ranks]
    assert listed == sorted(listed, reverse=True)
    scores = np.full(count, np.nan)
    for rank in ranks:
        scores[rank["index"]] = rank["score"]
    return scores
