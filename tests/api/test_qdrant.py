"""Hybrid search in Qdrant (local in-memory mode) with vectors from our API, as the
client guide (docs/clients.md) shows: dense + sparse (``sparse_as_indices``) + ColBERT.

With the tiny random bge-m3, meaning is absent, so the query is an exact copy of one
document: then each vector type has an exactly known score for it (dense cosine 1, sparse
dot = the sum of its squared weights, ColBERT MaxSim = its token count), and any mix-up of
items, indices or normalisation shows. The offline preset's real MiniLM + SPLADE weights
check the meaning: a paraphrase finds its document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from qdrant_client import QdrantClient, models

from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

CORPUS = [
    "The Eiffel Tower is in Paris.",
    "Photosynthesis converts sunlight into chemical energy in plants.",
    "The central bank raised interest rates by a quarter point.",
    "A goalkeeper saved the penalty in the final minute.",
    "Rust's borrow checker prevents data races at compile time.",
    "Whales are mammals that breathe air through blowholes.",
    "The recipe needs two eggs, flour and a pinch of salt.",
    "Mount Everest is the highest mountain above sea level.",
]
TARGET = 4


def embed(
    post: Callable[..., Any], texts: Sequence[str], **options: object
) -> list[dict[str, Any]]:
    r = post("/embeddings/", json={"sentences": list(texts), "sparse_as_indices": True, **options})
    assert r.status_code == 200, r.text
    return [item["embeddings"] for item in r.json()["data"]]


def index_corpus(qdrant: QdrantClient, vectors: list[dict[str, Any]], colbert: bool) -> None:
    dim = len(vectors[0]["dense"])
    dense_config = {"dense": models.VectorParams(size=dim, distance=models.Distance.COSINE)}
    if colbert:
        dense_config["colbert"] = models.VectorParams(
            size=len(vectors[0]["colbert"][0]),
            distance=models.Distance.DOT,  # our ColBERT rows are unit vectors
            multivector_config=models.MultiVectorConfig(
                comparator=models.MultiVectorComparator.MAX_SIM
            ),
        )
    qdrant.create_collection(
        "docs",
        vectors_config=dense_config,
        sparse_vectors_config={"sparse": models.SparseVectorParams()},
    )
    qdrant.upsert(
        "docs",
        points=[
            models.PointStruct(
                id=i,
                vector={
                    "dense": v["dense"],
                    "sparse": models.SparseVector(**v["sparse"]),
                    **({"colbert": v["colbert"]} if colbert else {}),
                },
                payload={"text": CORPUS[i]},
            )
            for i, v in enumerate(vectors)
        ],
    )


def hybrid_prefetch(query: dict[str, Any], limit: int) -> list[models.Prefetch]:
    return [
        models.Prefetch(query=query["dense"], using="dense", limit=limit),
        models.Prefetch(query=models.SparseVector(**query["sparse"]), using="sparse", limit=limit),
    ]


@pytest.fixture(scope="module")
def server_post(server_http: httpx.Client) -> Callable[..., httpx.Response]:
    return server_http.post


@pytest.fixture(scope="module")
def tiny_qdrant(server_post: Callable[..., httpx.Response]) -> QdrantClient:
    qdrant = QdrantClient(":memory:")
    index_corpus(qdrant, embed(server_post, CORPUS), colbert=True)
    return qdrant


def test_hybrid_query_rescored_with_colbert_finds_the_exact_match(
    server_post: Callable[..., httpx.Response], tiny_qdrant: QdrantClient
) -> None:
    qdrant = tiny_qdrant
    (query,) = embed(server_post, [CORPUS[TARGET]], input_type="query")

    hits = qdrant.query_points(
        "docs",
        prefetch=[
            models.Prefetch(
                prefetch=hybrid_prefetch(query, limit=3),
                query=models.FusionQuery(fusion=models.Fusion.RRF),
                limit=5,
            )
        ],
        query=query["colbert"],
        using="colbert",
        limit=3,
        with_payload=True,
    ).points

    assert hits[0].id == TARGET
    assert hits[0].payload == {"text": CORPUS[TARGET]}
    # MaxSim of a text with itself: every query token meets itself at cosine 1
    assert hits[0].score == pytest.approx(len(query["colbert"]), abs=1e-3)
    assert all(hit.score < hits[0].score - 1e-3 for hit in hits[1:])


def test_each_vector_type_scores_the_exact_match_as_expected(
    server_post: Callable[..., httpx.Response], tiny_qdrant: QdrantClient
) -> None:
    qdrant = tiny_qdrant
    (query,) = embed(server_post, [CORPUS[TARGET]])

    dense = qdrant.query_points("docs", query=query["dense"], using="dense", limit=1).points
    assert dense[0].id == TARGET
    assert dense[0].score == pytest.approx(1.0, abs=1e-5)

    sparse_query = models.SparseVector(**query["sparse"])
    sparse = qdrant.query_points("docs", query=sparse_query, using="sparse", limit=8).points
    scores = {hit.id: hit.score for hit in sparse}
    self_dot = sum(value * value for value in query["sparse"]["values"])
    assert scores[TARGET] == pytest.approx(self_dot, rel=1e-5)


@pytest.fixture(scope="module")
def offline_client(offline_server: ServerProcess) -> Iterator[httpx.Client]:
    """The session's ``serve --preset offline``: real MiniLM and SPLADE weights."""
    with httpx.Client(base_url=offline_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def offline_qdrant(offline_client: httpx.Client) -> QdrantClient:
    qdrant = QdrantClient(":memory:")
    index_corpus(qdrant, embed(offline_client.post, CORPUS, return_colbert=False), colbert=False)
    return qdrant


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which peak is the tallest on Earth?", 7),
        ("How do green plants turn light into energy?", 1),
        ("Are whales fish?", 5),
    ],
)
def test_hybrid_dense_and_sparse_find_the_paraphrased_document(
    offline_client: httpx.Client,
    offline_qdrant: QdrantClient,
    question: str,
    expected: int,
) -> None:
    qdrant = offline_qdrant
    (query,) = embed(offline_client.post, [question], return_colbert=False, input_type="query")
    hits = qdrant.query_points(
        "docs",
        prefetch=hybrid_prefetch(query, limit=4),
        query=models.FusionQuery(fusion=models.Fusion.RRF),
        limit=3,
    ).points
    assert hits[0].id == expected
