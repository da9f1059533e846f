"""ColBERT token pooling (``colbert_pool_factor``) and compact types (``colbert_type``) on the
native ``/embeddings/`` and TEI's ``/embed_all``, over HTTP against a running server (tiny
bge-m3). Each result is checked against its definition, computed here from the server's own
unpooled float vectors: scipy's Ward clustering for pooling, numpy for each type."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

TEXTS = [
    "Late interaction keeps one vector per token, so a passage of three hundred tokens costs "
    "three hundred vectors in the index, and pooling similar tokens together cuts that cost "
    "while the MaxSim score of a query barely moves.",
    "Short text.",
    "Qdrant stores multivectors as float32, float16 or uint8; binary vectors with a float "
    "rescore are common in Vespa.",
]
ONLY_COLBERT = {"return_dense": False, "return_sparse": False}
MSGPACK = {"accept": "application/msgpack"}

Post = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def post(server_http: httpx.Client) -> Post:
    return server_http.post


def embed(post: Post, texts: list[str], **options: object) -> dict[str, Any]:
    r = post("/embeddings/", json={"sentences": texts, **ONLY_COLBERT, **options})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def colbert_of(body: dict[str, Any]) -> list[np.ndarray]:
    return [np.asarray(item["embeddings"]["colbert"]) for item in body["data"]]


@pytest.fixture(scope="module")
def unpooled(post: Post) -> list[np.ndarray]:
    """Each text's ColBERT rows as the server gives them today (float32 values)."""
    return [rows.astype(np.float32) for rows in colbert_of(embed(post, TEXTS))]


@pytest.fixture(scope="module")
def colbert_ranges(server_http: httpx.Client) -> np.ndarray:
    """(2, dim): the uint8 buckets' per-dimension minimum and maximum, from /health."""
    found = server_http.get("/health").json()["colbert_quantization"]
    assert found["dimension"] == 32 and found["calibration_texts"] > 100
    return np.array([found["minimum"], found["maximum"]], dtype=np.float32)


def reference_pooling(rows: np.ndarray, factor: int) -> list[np.ndarray]:
    """The pooled rows as PyLate's recipe gives them, written independently of the server:
    float64 cosine distances (scipy's pdist), Ward linkage, ``max(n // factor, 1)`` clusters,
    each cluster's mean."""
    clusters = max(len(rows) // factor, 1)
    if clusters >= len(rows):
        return list(rows.astype(np.float64))
    tree = linkage(pdist(rows.astype(np.float64), "cosine"), method="ward")
    labels = fcluster(tree, t=clusters, criterion="maxclust")
    return [rows[labels == label].astype(np.float64).mean(axis=0) for label in np.unique(labels)]


def _without_time(content: bytes) -> bytes:
    return re.sub(rb'"processing_time_ms":[0-9.e+-]+', b"", content)


@pytest.mark.parametrize("headers", [{}, MSGPACK], ids=["json", "msgpack"])
def test_pool_factor_1_and_float_are_the_bytes_of_today(post: Post, headers: dict) -> None:  # type: ignore[type-arg]
    body = {"sentences": TEXTS, "input_type": "document"}
    today = post("/embeddings/", json=body, headers=headers)
    explicit = post(
        "/embeddings/",
        json={**body, "colbert_pool_factor": 1, "colbert_type": "float"},
        headers=headers,
    )
    assert today.status_code == explicit.status_code == 200
    if headers:
        decoded = [msgspec.msgpack.decode(r.content) for r in (today, explicit)]
        for one in decoded:
            one.pop("processing_time_ms")
        assert msgspec.msgpack.encode(decoded[0]) == msgspec.msgpack.encode(decoded[1])
        assert isinstance(decoded[0]["data"][0]["embeddings"]["colbert"], list)
    else:
        assert _without_time(today.content) == _without_time(explicit.content)
    assert "colbert_info" not in today.text and "colbert_info" not in explicit.text


@pytest.mark.parametrize("factor", [2, 3, 4, 64])
def test_factor_k_leaves_at_most_ceil_n_over_k_vectors(
    post: Post, unpooled: list[np.ndarray], factor: int
) -> None:
    body = embed(post, TEXTS, colbert_pool_factor=factor)
    for item, rows, before in zip(body["data"], colbert_of(body), unpooled, strict=True):
        n = len(before)
        assert 1 <= len(rows) <= math.ceil(n / factor)
        assert item["colbert_info"] == {
            "pool_factor": factor,
            "vectors_before_pooling": n,
            "vectors_after_pooling": len(rows),
            "type": "float",
        }
    assert body["warnings"] == []


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_pooling_matches_the_reference_clusters_and_means(
    post: Post, unpooled: list[np.ndarray], factor: int
) -> None:
    pooled = colbert_of(embed(post, TEXTS, colbert_pool_factor=factor))
    for rows, server_rows in zip(unpooled, pooled, strict=True):
        reference = reference_pooling(rows, factor)
        assert len(server_rows) == len(reference)
        # the same clusters: every reference mean is one server row, within 1e-6
        unmatched = list(range(len(server_rows)))
        for mean in reference:
            gaps = [float(np.abs(server_rows[i] - mean).max()) for i in unmatched]
            best = int(np.argmin(gaps))
            assert gaps[best] < 1e-6, (factor, gaps[best])
            unmatched.pop(best)
    assert len(pooled[0]) < len(unpooled[0])  # the long text was pooled


def test_a_query_is_not_pooled_and_says_so(post: Post, unpooled: list[np.ndarray]) -> None:
    body = embed(post, TEXTS, input_type="query", colbert_pool_factor=3)
    for rows, before, item in zip(colbert_of(body), unpooled, body["data"], strict=True):
        # bge-m3 has no query prompt: a query's vectors are a document's, unpooled
        np.testing.assert_array_equal(rows.astype(np.float32), before)
        assert item["colbert_info"]["pool_factor"] == 1
        assert item["colbert_info"]["vectors_after_pooling"] == len(before)
    (warning,) = body["warnings"]
    assert warning["code"] == "query_not_pooled"
    assert warning["target"] == {
        "field": "colbert_pool_factor",
        "index": None,
        "pointer": "/colbert_pool_factor",
    }
    assert "input_type: query" in warning["message"]


def _uint8(rows: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """256 buckets per dimension, cut evenly between its minimum and maximum (float32, as
    sentence-transformers' quantize_embeddings computes them); outside: the end buckets."""
    steps = (ranges[1] - ranges[0]) / np.float32(255)
    buckets = np.floor((rows.astype(np.float32) - ranges[0]) / steps)
    return np.clip(buckets, 0, 255).astype(np.uint8)


def _expected(kind: str, rows: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    if kind == "float16":
        return rows.astype(np.float16)
    if kind == "uint8":
        return _uint8(rows, ranges)
    # sign bits, 8 a byte, most significant first (the dense ubinary)
    return np.packbits(rows > 0, axis=1)


@pytest.mark.parametrize("factor", [1, 2])
@pytest.mark.parametrize("kind", ["float16", "uint8", "binary"])
def test_each_type_is_exact_in_json_and_msgpack(
    post: Post, colbert_ranges: np.ndarray, kind: str, factor: int
) -> None:
    floats = colbert_of(embed(post, TEXTS, colbert_pool_factor=factor))
    body = embed(post, TEXTS, colbert_pool_factor=factor, colbert_type=kind)
    r = post(
        "/embeddings/",
        json={
            "sentences": TEXTS,
            **ONLY_COLBERT,
            "colbert_pool_factor": factor,
            "colbert_type": kind,
        },
        headers=MSGPACK,
    )
    packed = msgspec.msgpack.decode(r.content)
    for i, rows in enumerate(floats):
        expected = _expected(kind, rows.astype(np.float32), colbert_ranges)
        as_json = np.asarray(body["data"][i]["embeddings"]["colbert"])
        if kind == "float16":
            # each value's text reads back as that float16 exactly
            assert as_json.dtype == np.float64
            np.testing.assert_array_equal(as_json.astype(np.float16), expected)
            np.testing.assert_array_equal(as_json.astype(np.float32), expected)
        else:
            assert as_json.dtype == np.int64 and as_json.min() >= 0 and as_json.max() <= 255
            np.testing.assert_array_equal(as_json, expected)
        # MessagePack: the rows end to end in one byte string (float16 little-endian)
        raw = packed["data"][i]["embeddings"]["colbert"]
        assert isinstance(raw, bytes)
        assert raw == expected.astype(expected.dtype.newbyteorder("<")).tobytes()
        assert body["data"][i]["colbert_info"] == {
            "pool_factor": factor,
            "vectors_before_pooling": body["data"][i]["colbert_info"]["vectors_before_pooling"],
            "vectors_after_pooling": len(rows),
            "type": kind,
        }
    assert kind != "uint8" or (colbert_ranges[1] > colbert_ranges[0]).all()


def test_embed_all_gives_the_native_vectors_and_says_what_it_did(post: Post) -> None:
    options = {"colbert_pool_factor": 2, "colbert_type": "float16"}
    native = embed(post, TEXTS, **options)
    r = post("/embed_all", json={"inputs": TEXTS, **options})
    assert r.status_code == 200, r.text
    assert r.json() == [item["embeddings"]["colbert"] for item in native["data"]]
    infos = [item["colbert_info"] for item in native["data"]]
    assert r.headers["x-colbert-pool-factor"] == "2"
    assert r.headers["x-colbert-type"] == "float16"
    assert r.headers["x-colbert-vectors-before-pooling"] == ",".join(
        str(i["vectors_before_pooling"]) for i in infos
    )
    assert r.headers["x-colbert-vectors-after-pooling"] == ",".join(
        str(i["vectors_after_pooling"]) for i in infos
    )
    assert "warning" not in r.headers
    packed = post("/embed_all", json={"inputs": TEXTS, **options}, headers=MSGPACK)
    assert msgspec.msgpack.decode(packed.content) == [
        np.asarray(rows, dtype="<f2").tobytes() for rows in r.json()
    ]
    plain = post("/embed_all", json={"inputs": TEXTS})
    assert not any(name.startswith("x-colbert") for name in plain.headers)


def test_embed_all_does_not_pool_a_query(post: Post, unpooled: list[np.ndarray]) -> None:
    r = post("/embed_all", json={"inputs": TEXTS, "colbert_pool_factor": 2, "prompt_name": "query"})
    assert r.status_code == 200, r.text
    assert [len(rows) for rows in r.json()] == [len(rows) for rows in unpooled]
    assert r.headers["x-colbert-pool-factor"] == "1"
    assert r.headers["warning"].startswith('299 smart-embedder "colbert_pool_factor applies')


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"colbert_pool_factor": 0}, "colbert_pool_factor", "Expected `int` >= 1"),
        ({"colbert_pool_factor": 65}, "colbert_pool_factor", "Expected `int` <= 64"),
        ({"colbert_pool_factor": "two"}, "colbert_pool_factor", "Expected `int`"),
        ({"colbert_type": "int4"}, "colbert_type", "Invalid enum value 'int4'"),
    ],
)
def test_bad_options_are_a_4xx_naming_the_field(
    post: Post,
    options: dict,
    field: str,
    message: str,  # type: ignore[type-arg]
) -> None:
    native = post("/embeddings/", json={"sentences": TEXTS, **options})
    assert native.status_code == 400, native.text
    assert native.json()["error"]["param"] == field
    assert message in native.json()["detail"]
    tei = post("/embed_all", json={"inputs": TEXTS, **options})
    assert tei.status_code == 422, tei.text
    assert tei.json()["error_type"] == "Validation"
    assert f"{field}: {message}" in tei.json()["error"]


@pytest.mark.parametrize(
    "options", [{"colbert_pool_factor": 2}, {"colbert_type": "float16"}], ids=["factor", "type"]
)
def test_either_option_without_a_colbert_model_is_a_400(
    offline_server: ServerProcess,
    options: dict,  # type: ignore[type-arg]
) -> None:
    (field,) = options
    with httpx.Client(base_url=offline_server.url, timeout=60) as http:
        r = http.post("/embeddings/", json={"sentences": ["a document"], **options})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == field
        assert r.json()["detail"] == (
            f"{field} applies to ColBERT vectors and no model served here gives them (bge-m3 "
            "does); leave it out"
        )
        # TEI's route itself needs a ColBERT model: its 424 says so, options or not
        tei = http.post("/embed_all", json={"inputs": ["a document"], **options})
        assert tei.status_code == 424, tei.text
        assert tei.json()["error"] == (
            "/embed_all needs colbert vectors and no served model gives them (bge-m3 does)"
        )
        # left out, the same request is answered
        assert http.post("/embeddings/", json={"sentences": ["a document"]}).status_code == 200


def _maxsim(query: np.ndarray, document: np.ndarray) -> float:
    return float((query @ document.T).max(axis=1).sum())


@pytest.mark.parametrize(
    ("kind", "factor", "distance"),
    [("float16", 2, "Dot"), ("uint8", 1, "Cosine")],
    ids=["float16 pooled", "uint8"],
)
def test_qdrant_takes_the_compact_multivectors_and_ranks_with_them(
    post: Post, kind: str, factor: int, distance: str
) -> None:
    from qdrant_client import QdrantClient, models

    from tests.api.test_qdrant import CORPUS, TARGET

    documents = colbert_of(embed(post, CORPUS, colbert_pool_factor=factor, colbert_type=kind))
    (query,) = colbert_of(
        embed(
            post,
            [CORPUS[TARGET]],
            input_type="query",
            colbert_pool_factor=factor,
            colbert_type=kind,
        )
    )
    qdrant = QdrantClient(":memory:")
    qdrant.create_collection(
        "docs",
        vectors_config={
            "colbert": models.VectorParams(
                size=documents[0].shape[1],
                distance=models.Distance(distance),
                datatype=models.Datatype(kind),
                multivector_config=models.MultiVectorConfig(
                    comparator=models.MultiVectorComparator.MAX_SIM
                ),
            )
        },
    )
    qdrant.upsert(
        "docs",
        points=[
            models.PointStruct(id=i, vector={"colbert": rows.tolist()})
            for i, rows in enumerate(documents)
        ],
    )
    hits = qdrant.query_points("docs", query=query.tolist(), using="colbert", limit=8).points

    def unit(rows: np.ndarray) -> np.ndarray:
        rows = rows.astype(np.float64)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True) if distance == "Cosine" else rows

    expected = [_maxsim(unit(query), unit(rows)) for rows in documents]
    assert [hit.id for hit in hits] == list(np.argsort(expected, kind="stable")[::-1])
    for hit in hits:
        assert hit.score == pytest.approx(expected[int(hit.id)], rel=1e-4)
    assert hits[0].id == TARGET
    if kind == "uint8":  # unpooled, the exact copy meets every token of itself at cosine 1
        assert hits[0].score == pytest.approx(len(query), rel=1e-5)
