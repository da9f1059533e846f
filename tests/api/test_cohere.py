"""The official ``cohere`` client (v2 and v1 rerank) and Jina-style bodies on a real server."""

from __future__ import annotations

from pathlib import Path

import cohere
import httpx
import numpy as np
import pytest
from transformers import AutoTokenizer

from tests.api.conftest import API_TOKEN
from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

QUERY = "how do plants make food"
DOCUMENTS = [
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "The stock market closed higher on Friday.",
    "Leaves contain chlorophyll.",
    "A recipe for tomato soup.",
]


@pytest.fixture(scope="module")
def reranker(tiny_models: dict[str, Path]) -> str:
    return str(tiny_models["bge-reranker"])


@pytest.fixture(scope="module")
def co(server: ServerProcess) -> cohere.ClientV2:
    # The client joins "v2/rerank" onto base_url: give it the server root, no /v1 or /v2.
    return cohere.ClientV2(api_key=API_TOKEN, base_url=server.url, max_retries=0)


def native_logits(server_http: httpx.Client) -> np.ndarray:
    r = server_http.post("/rerank", json={"query": QUERY, "passages": DOCUMENTS})
    assert r.status_code == 200, r.text
    logits = np.zeros(len(DOCUMENTS))
    for result in r.json()["results"]:
        logits[result["index"]] = result["score"]
    return logits


def test_v2_rerank_scores_are_the_sigmoid_of_the_logits(
    co: cohere.ClientV2, server_http: httpx.Client, reranker: str
) -> None:
    response = co.rerank(model=reranker, query=QUERY, documents=DOCUMENTS)
    expected = 1.0 / (1.0 + np.exp(-native_logits(server_http)))
    assert sorted(r.index for r in response.results) == [0, 1, 2, 3]
    scores = [r.relevance_score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    for result in response.results:
        assert 0.0 <= result.relevance_score <= 1.0
        assert result.relevance_score == pytest.approx(expected[result.index], abs=1e-6)
        assert "document" not in (result.model_extra or {})  # not asked for
    assert response.id
    assert response.meta is not None and response.meta.api_version is not None
    assert response.meta.api_version.version == "2"


def test_v2_top_n_and_usage(co: cohere.ClientV2, reranker: str) -> None:
    full = co.rerank(model=reranker, query=QUERY, documents=DOCUMENTS)
    top = co.rerank(model=reranker, query=QUERY, documents=DOCUMENTS, top_n=2)
    assert [r.index for r in top.results] == [r.index for r in full.results[:2]]
    tokenizer = AutoTokenizer.from_pretrained(reranker)
    expected_tokens = sum(len(tokenizer(QUERY, doc)["input_ids"]) for doc in DOCUMENTS)
    assert top.usage == {"total_tokens": expected_tokens}  # type: ignore[attr-defined]
    assert top.meta is not None and top.meta.billed_units is not None
    assert top.meta.billed_units.search_units == 1
    assert top.meta.billed_units.input_tokens == expected_tokens


def test_v1_client_returns_documents(server: ServerProcess, reranker: str) -> None:
    v1 = cohere.Client(api_key=API_TOKEN, base_url=server.url, max_retries=0)
    response = v1.rerank(
        model=reranker, query=QUERY, documents=DOCUMENTS, top_n=3, return_documents=True
    )
    assert len(response.results) == 3
    for result in response.results:
        assert result.document is not None
        assert result.document.text == DOCUMENTS[result.index]
    assert response.meta is not None and response.meta.api_version is not None
    assert response.meta.api_version.version == "1"


def test_jina_style_documents_objects(server_http: httpx.Client) -> None:
    r = server_http.post(
        "/v1/rerank",
        json={
            "query": QUERY,
            "documents": [{"text": d} for d in DOCUMENTS],
            "top_n": 10,  # more than there are: all come back
            "return_documents": True,
        },
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 4
    assert {res["document"]["text"] for res in results} == set(DOCUMENTS)
    assert [res["document"]["text"] for res in results] == [
        DOCUMENTS[res["index"]] for res in results
    ]


def test_model_may_be_left_out(server_http: httpx.Client, reranker: str) -> None:
    r = server_http.post("/v2/rerank", json={"query": QUERY, "documents": DOCUMENTS})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == reranker
    assert "document" not in r.json()["results"][0]


def test_truncated_documents_are_warned_in_meta(server_http: httpx.Client) -> None:
    r = server_http.post(
        "/v2/rerank",
        json={"query": QUERY, "documents": ["word " * 700, "short"]},
    )
    assert r.status_code == 200, r.text
    (warning,) = r.json()["meta"]["warnings"]
    assert warning.startswith("documents[0] has ")


# --- errors the client raises as its own exception types ---
def test_empty_documents_is_a_bad_request(co: cohere.ClientV2, reranker: str) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.rerank(model=reranker, query=QUERY, documents=[])
    assert caught.value.body["error"]["message"] == "documents must contain at least one text"
    assert caught.value.body["error"]["param"] == "documents"


def test_empty_query_and_empty_document(co: cohere.ClientV2, reranker: str) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.rerank(model=reranker, query=" ", documents=DOCUMENTS)
    assert caught.value.body["detail"] == "query is empty"
    with pytest.raises(cohere.BadRequestError) as caught:
        co.rerank(model=reranker, query=QUERY, documents=["fine", ""])
    assert caught.value.body["detail"] == "documents[1] is empty"


def test_unknown_and_wrong_models(co: cohere.ClientV2, tiny_models: dict[str, Path]) -> None:
    with pytest.raises(cohere.NotFoundError) as caught:
        co.rerank(model="rerank-v3.5", query=QUERY, documents=DOCUMENTS)
    assert "model 'rerank-v3.5' is not served here" in caught.value.body["detail"]
    # bge-m3 is a rerank model too: its hybrid score (tests/api/test_hybrid_score.py)
    hybrid = co.rerank(model=str(tiny_models["bge-m3"]), query=QUERY, documents=DOCUMENTS)
    assert len(hybrid.results) == len(DOCUMENTS)


def test_wrong_api_key_is_unauthorized(server: ServerProcess, reranker: str) -> None:
    stranger = cohere.ClientV2(api_key="wrong", base_url=server.url, max_retries=0)
    with pytest.raises(cohere.UnauthorizedError) as caught:
        stranger.rerank(model=reranker, query=QUERY, documents=DOCUMENTS)
    assert caught.value.body["detail"] == "invalid bearer token"


def test_bad_top_n_and_too_many_documents(co: cohere.ClientV2, reranker: str) -> None:
    with pytest.raises(cohere.BadRequestError) as caught:
        co.rerank(model=reranker, query=QUERY, documents=DOCUMENTS, top_n=0)
    assert caught.value.body["error"]["param"] == "top_n"
    with pytest.raises(cohere.UnprocessableEntityError) as caught:
        co.rerank(model=reranker, query=QUERY, documents=["doc"] * 129)
    assert caught.value.body["detail"] == (
        "documents has 129 items; at most 128 are allowed (MAX_RERANK_PASSAGES)"
    )


def test_wrong_document_shape_names_the_field(server_http: httpx.Client) -> None:
    r = server_http.post(
        "/v2/rerank",
        json={"query": QUERY, "documents": ["ok", {"content": "no text field"}]},
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "documents[1]"
    assert "text" in r.json()["detail"]
