"""The exact HTTP bodies that vector databases send to a TEI server, read from their sources,
over real HTTP, with each answer checked against the native API's for the same texts:

- Milvus' TEI embedding function and TEI ranker: ``internal/util/function/models/tei/tei.go``
  (milvus-io/milvus). It replaces the endpoint's path with ``/embed`` or ``/rerank``, sends
  ``Authorization: Bearer <key>``, ``truncate`` only when true (Go ``omitempty``) and
  ``truncation_direction`` as ``Left``/``Right``; prompts are prepended to the texts client-side.
  It re-sorts the ranks by index.
- Weaviate's ``text2vec-huggingface``: ``modules/text2vec-huggingface/clients/huggingface.go``
  (weaviate/weaviate). It POSTs to the configured endpoint URL exactly (a TEI root, or
  ``.../embed``) with ``{"inputs": [...], "options": {...}}`` (``options`` always there, its
  flags ``omitempty``) and a bearer token whenever one is configured; it reads an error's
  ``error`` string.
- Elasticsearch's ``hugging_face`` inference service (elastic/elasticsearch,
  ``x-pack/plugin/inference/.../huggingface/request/embeddings/
  HuggingFaceEmbeddingsRequestEntity.java`` and ``.../request/rerank/
  HuggingFaceRerankRequestEntityTests.java``): ``{"inputs": [...]}`` to the URL exactly, and for
  rerank ``{"texts": [...], "query": ..., "return_text": ..., "top_n": ...}`` (``top_n`` is not
  TEI's and is ignored, as TEI ignores it).
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from tests.api.conftest import API_TOKEN
from tests.api.tei_native import ATOL, DIM, QUERY, TEXTS, native_dense, native_scores

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

JSON_AND_BEARER = {"Content-Type": "application/json", "Authorization": f"Bearer {API_TOKEN}"}


def post_raw(http: httpx.Client, path: str, body: bytes) -> Any:
    """A body sent byte for byte as the client writes it (Go's and Java's encoders)."""
    r = http.post(path, content=body, headers=JSON_AND_BEARER)
    assert r.status_code == 200, r.text
    return r.json()


def quoted(texts: list[str]) -> str:
    return ",".join(f'"{t}"' for t in texts)


# --- Milvus (tei.go): EmbeddingRequest{Inputs, Truncate omitempty, TruncationDirection
# omitempty, PromptName omitempty} and map{"query", "texts"} + the ranker's params ---
@pytest.mark.parametrize(
    "options",
    ["", ',"truncate":true', ',"truncate":true,"truncation_direction":"Right"'],
)
def test_milvus_embedding_function(server_http: httpx.Client, options: str) -> None:
    body = f'{{"inputs":[{quoted(TEXTS)}]{options}}}'.encode()
    vectors = np.array(post_raw(server_http, "/embed", body), dtype=np.float32)
    assert vectors.shape == (len(TEXTS), DIM)
    np.testing.assert_allclose(vectors, native_dense(server_http, TEXTS), atol=ATOL)


def test_milvus_ranker(server_http: httpx.Client) -> None:
    for params in ("", ',"truncate":true,"truncation_direction":"Left"'):
        body = f'{{"query":"{QUERY}","texts":[{quoted(TEXTS)}]{params}}}'.encode()
        ranks = post_raw(server_http, "/rerank", body)
        by_index = sorted(ranks, key=lambda r: r["index"])  # as Milvus re-sorts them
        assert [r["index"] for r in by_index] == list(range(len(TEXTS)))
        want = native_scores(server_http, QUERY, TEXTS, normalize=True)
        np.testing.assert_allclose([r["score"] for r in by_index], want, atol=ATOL)


# --- Weaviate (huggingface.go): embeddingsRequest{Inputs, Options *options} ---
@pytest.mark.parametrize("path", ["/", "/embed"])
@pytest.mark.parametrize(
    "options", ["{}", '{"wait_for_model":true,"use_gpu":true,"use_cache":true}']
)
def test_weaviate_text2vec_huggingface(server_http: httpx.Client, path: str, options: str) -> None:
    body = f'{{"inputs":[{quoted(TEXTS)}],"options":{options}}}'.encode()
    vectors = post_raw(server_http, path, body)
    # Weaviate decodes [][]float32 first
    assert isinstance(vectors, list) and all(len(v) == DIM for v in vectors)
    np.testing.assert_allclose(vectors, native_dense(server_http, TEXTS), atol=ATOL)


def test_weaviate_reads_the_error_string(server_http: httpx.Client) -> None:
    r = server_http.post("/", content=b'{"inputs":[],"options":{}}', headers=JSON_AND_BEARER)
    assert r.status_code >= 400
    assert isinstance(r.json()["error"], str)  # huggingFaceApiError.Error


# --- Elasticsearch (hugging_face service): {"inputs": [...]} and the rerank entity ---
@pytest.mark.parametrize("path", ["/", "/embed"])
def test_elasticsearch_text_embedding(server_http: httpx.Client, path: str) -> None:
    body = f'{{"inputs":[{quoted(TEXTS)}]}}'.encode()
    vectors = post_raw(server_http, path, body)
    np.testing.assert_allclose(vectors, native_dense(server_http, TEXTS), atol=ATOL)


@pytest.mark.parametrize("path", ["/", "/rerank"])
@pytest.mark.parametrize("extra", ["", ',"return_text":true,"top_n":2'])
def test_elasticsearch_rerank(server_http: httpx.Client, path: str, extra: str) -> None:
    body = f'{{"texts":[{quoted(TEXTS)}],"query":"{QUERY}"{extra}}}'.encode()
    ranks = post_raw(server_http, path, body)
    assert len(ranks) == len(TEXTS)  # top_n is not TEI's: every text is ranked
    want = native_scores(server_http, QUERY, TEXTS, normalize=True)
    for rank in ranks:
        assert rank["score"] == pytest.approx(want[rank["index"]], abs=ATOL)
        assert ("text" in rank) == bool(extra)
        if extra:
            assert rank["text"] == TEXTS[rank["index"]]
