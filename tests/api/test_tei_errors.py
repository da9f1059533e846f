"""TEI's error body ``{error, error_type}`` with TEI's status codes on TEI's routes, over real
HTTP; TEI's routes behind the same auth, rate limits and metrics as the others; and what a
server without a reranker, or with only one, answers on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api.tei_native import ATOL, QUERY, TEXTS, ranked_scores
from tests.helpers import wait_ready
from tests.ops.metrics_text import value

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

AppClient = TestClient[Litestar]
MakeClient = Callable[..., AppClient]


def tei_error(r: httpx.Response, status: int, error_type: str) -> str:
    """The message of a TEI error answer, once its status, type and shape are checked."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "error_type"}, body
    assert body["error_type"] == error_type, body
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/embed", {"inputs": []}, "`inputs` cannot be empty"),
        ("/embed_sparse", {"inputs": []}, "`inputs` cannot be empty"),
        ("/embed_all", {"inputs": []}, "`inputs` cannot be empty"),
        ("/tokenize", {"inputs": []}, "`inputs` cannot be empty"),
        ("/rerank", {"query": QUERY, "texts": []}, "`texts` cannot be empty"),
        ("/predict", {"inputs": []}, "`inputs` cannot be empty"),
        (
            "/similarity",
            {"inputs": {"source_sentence": "a", "sentences": []}},
            "`inputs.sentences` cannot be empty",
        ),
    ],
)
def test_an_empty_batch_is_teis_400(
    server_http: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    assert tei_error(server_http.post(path, json=body), 400, "Empty") == message


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/embed",
            {"inputs": ["a"] * 129},
            "batch size 129 > maximum allowed batch size 128 (MAX_SENTENCES_PER_REQUEST)",
        ),
        ("/embed_sparse", {"inputs": ["a"] * 129}, "allowed batch size 128 (MAX_SENTENCES_PER"),
        ("/rerank", {"query": "q", "texts": ["a"] * 129}, "batch size 128 (MAX_RERANK_PASSAGES)"),
        ("/predict", {"inputs": [["q", "a"]] * 129}, "batch size 128 (MAX_RERANK_PASSAGES)"),
        (
            "/embed",
            {"inputs": "a" * 20_001},
            "inputs exceeds 20000 characters (MAX_SENTENCE_CHARS)",
        ),
        ("/decode", {"ids": [[1]] * 129}, "batch size 128 (MAX_SENTENCES_PER_REQUEST)"),
        # a token id counts as a character
        ("/embed", {"inputs": [5] * 20_001}, "inputs has 20001 token ids; at most 20000"),
        ("/embed_all", {"inputs": ["a", [5] * 20_001]}, "inputs[1] has 20001 token ids"),
    ],
)
def test_over_a_limit_is_teis_413(
    server_http: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    assert message in tei_error(server_http.post(path, json=body), 413, "Validation")


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/embed", {"inputs": 5}, "inputs"),
        ("/embed", {"inputs": ["a", 3]}, "inputs[1] is a token id among texts"),
        ("/embed", {"inputs": [0, 250_002, 2]}, "inputs[1] is token id 250002, which "),
        ("/embed_sparse", {"inputs": ["a", [0, 7, 2**31]]}, "inputs[1][2] is token id 2147483648"),
        ("/tokenize", {"inputs": [[0, 5, 999_999]]}, "its vocabulary has ids 0..250001"),
        ("/embed_all", {"inputs": [[0, 5, 2], []]}, "inputs[1] has no token ids"),
        ("/embed", {"inputs": [[0, -1]]}, "inputs[0][1]"),
        ("/embed", {"inputs": "   "}, "inputs is empty"),
        ("/embed", {"inputs": "a", "truncation_direction": "up"}, "'Left', 'Right'"),
        ("/embed", {"inputs": "a", "prompt_name": "classification"}, "'query', 'document'"),
        ("/embed", {"inputs": "a", "dimensions": 8}, "does not support dimensions"),
        ("/embed", {"truncate": True}, "inputs is required"),
        ("/rerank", {"query": QUERY, "texts": [1]}, "texts[0]"),
        ("/rerank", {"query": 7, "texts": ["a"]}, "query"),
        ("/predict", {"inputs": ["a", ["b"]]}, "inputs mixes texts and lists"),
        ("/predict", {"inputs": ["a", "b", "c"]}, "inputs has 3 texts"),
        ("/predict", {"inputs": [["a"], []]}, "inputs[1] has 0 texts"),
        ("/predict", {"inputs": [["a", "b"], "c"]}, "inputs[1] is a text"),
        ("/decode", {"ids": [1, [2]]}, "mixes token ids and lists"),
        ("/decode", {"ids": [-1]}, "ids[0]"),
        ("/similarity", {"inputs": {"sentences": ["a"]}}, "source_sentence is required"),
    ],
)
def test_a_body_that_does_not_fit_is_teis_422(
    server_http: httpx.Client, path: str, body: dict[str, Any], says: str
) -> None:
    assert says in tei_error(server_http.post(path, json=body), 422, "Validation")


def test_not_json_and_not_sent_as_json(server_http: httpx.Client) -> None:
    bad = server_http.post(
        "/embed", content=b'{"inputs": ', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in tei_error(bad, 400, "Validation")
    form = server_http.post(
        "/embed", content=b"--x--", headers={"content-type": "multipart/form-data"}
    )
    assert "send the body as JSON" in tei_error(form, 415, "Validation")
    # On /rerank a body that is not JSON cannot show TEI's shape: the original's error body.
    native = server_http.post(
        "/rerank", content=b'{"texts": ', headers={"content-type": "application/json"}
    )
    assert native.status_code == 400 and "not valid JSON" in native.json()["detail"]


def test_a_wrong_token_is_a_401_in_teis_shape(server_http: httpx.Client) -> None:
    wrong = {"Authorization": "Bearer not-the-token"}
    for path, body in (("/embed", {"inputs": "a"}), ("/predict", {"inputs": ["a", "b"]})):
        r = server_http.post(path, json=body, headers=wrong)
        assert tei_error(r, 401, "Unauthorized") == "invalid bearer token"
        assert r.headers["www-authenticate"] == "Bearer"
    assert tei_error(server_http.get("/info", headers=wrong), 401, "Unauthorized")
    # /rerank refuses before the body is read, so which body it was is not known yet
    r = server_http.post("/rerank", json={"query": "q", "texts": ["a"]}, headers=wrong)
    assert r.status_code == 401 and r.json()["detail"] == "invalid bearer token"


# --- the same server machinery as every other route ---
@pytest.fixture
def fresh(make_client: MakeClient) -> Iterator[AppClient]:
    """An app of its own (its own counters), without a token, rate limits off."""
    with make_client() as test_client:
        wait_ready(test_client)
        yield test_client


def test_a_bearer_token_is_accepted_when_auth_is_off(fresh: AppClient) -> None:
    # Weaviate always sends one; LlamaIndex's rerank postprocessor sends its token bare.
    for header in ("Bearer some-hf-key", "some-hf-key"):
        headers = {"Authorization": header}
        assert fresh.post("/embed", json={"inputs": "a"}, headers=headers).status_code == 200
        r = fresh.post("/rerank", json={"query": "q", "texts": ["a"]}, headers=headers)
        assert r.status_code == 200
        assert fresh.get("/info", headers=headers).status_code == 200


def test_tei_requests_are_counted_per_route_and_family(fresh: AppClient) -> None:
    assert fresh.post("/embed", json={"inputs": ["a", "b"]}).status_code == 200
    assert fresh.post("/embed", json={"inputs": []}).status_code == 400
    assert fresh.post("/", json={"inputs": "a"}).status_code == 200
    assert fresh.post("/embed_sparse", json={"inputs": "a"}).status_code == 200
    assert fresh.post("/rerank", json={"query": "q", "texts": ["a", "b", "c"]}).status_code == 200
    assert fresh.post("/rerank", json={"query": "q", "texts": [1]}).status_code == 422
    assert fresh.post("/rerank", json={"query": "q", "passages": ["a"]}).status_code == 200
    assert fresh.post("/invocations", json={"query": "q", "texts": ["a"]}).status_code == 200
    assert fresh.post("/predict", json={"inputs": [["q", "a"], ["r", "b"]]}).status_code == 200
    assert fresh.post("/tokenize", json={"inputs": "a"}).status_code == 200
    text = fresh.get("/metrics").text
    ours = "smart_embedder_requests_total"
    assert value(text, ours, endpoint="tei_embed", status="200") == 2  # /embed and POST /
    assert value(text, ours, endpoint="tei_embed", status="400") == 1
    assert value(text, ours, endpoint="tei_embed_sparse", status="200") == 1
    assert value(text, ours, endpoint="tei_rerank", status="200") == 2  # /rerank, /invocations
    assert value(text, ours, endpoint="tei_rerank", status="422") == 1
    assert value(text, ours, endpoint="rerank", status="200") == 1  # the original's body
    assert value(text, ours, endpoint="tei_predict", status="200") == 1
    assert value(text, ours, endpoint="tei_tokenize", status="200") == 1
    # the original's series: embedding routes by path, rerank routes in the rerank family
    original = "embedding_requests_total"
    assert value(text, original, endpoint="/embed", status="success") == 2
    assert value(text, original, endpoint="/embed", status="error") == 1
    assert value(text, original, endpoint="/embed_sparse", status="success") == 1
    assert value(text, "rerank_requests_total", status="success") == 4
    assert value(text, "rerank_requests_total", status="error") == 1
    assert value(text, "embedding_sentences_processed_total") == 4
    assert value(text, "rerank_pairs_processed_total") == 3 + 1 + 1 + 2
    assert value(text, "embedding_active_requests") == 0
    assert value(text, "rerank_active_requests") == 0
    stats = fresh.get("/stats").json()
    assert stats["requests_by_endpoint"]["tei_rerank"] == 3
    assert stats["total_requests"] == 9  # /tokenize runs no model, as /v1/models


def test_a_body_over_the_size_cap_is_teis_413(make_client: MakeClient) -> None:
    with make_client(max_request_body_bytes=2_000) as small:
        wait_ready(small)
        r = small.post("/embed", json={"inputs": ["a" * 500] * 5})
        assert "MAX_REQUEST_BODY_BYTES" in tei_error(r, 413, "Validation")


def test_rate_limited_tei_requests_get_teis_429(make_client: MakeClient) -> None:
    with make_client(rate_limit_requests_per_minute=1, rate_limit_burst_size=1) as limited:
        wait_ready(limited)
        assert limited.post("/embed", json={"inputs": "a"}).status_code == 200
        r = limited.post("/embed", json={"inputs": "a"})
        assert "rate limit" in tei_error(r, 429, "Overloaded")
        assert int(r.headers["retry-after"]) >= 1
        text = limited.get("/metrics").text
        rejected = "smart_embedder_requests_rejected_total"
        assert value(text, rejected, endpoint="tei_embed", reason="rate_limit") == 1
        assert value(text, "embedding_requests_rejected_total", reason="rate_limit") == 1


# --- servers whose models cannot do what a route does: TEI's 424 ---
def test_without_a_reranker(make_client: MakeClient) -> None:
    with make_client(reranker_model="", engine_process=False) as app:
        wait_ready(app)
        for path, body in (
            ("/rerank", {"query": "q", "texts": ["a"]}),
            ("/predict", {"inputs": ["q", "a"]}),
            ("/", {"query": "q", "texts": ["a"]}),
        ):
            assert "not a re-ranker" in tei_error(app.post(path, json=body), 424, "Backend")
        info = app.get("/info").json()
        assert info["model_type"] == {"embedding": {"pooling": "cls"}}
        assert info["reranker_id"] is None


def test_with_only_a_reranker(make_client: MakeClient) -> None:
    with make_client(bge_m3_model="", engine_process=False) as app:
        wait_ready(app)
        for path in ("/embed", "/embed_sparse", "/embed_all", "/tokenize"):
            assert "served" in tei_error(app.post(path, json={"inputs": "a"}), 424, "Backend")
        info = app.get("/info").json()
        assert info["model_type"] == {
            "reranker": {"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}}
        }
        assert info["served_model_name"] == info["model_id"]  # no served names configured
        assert info["max_client_batch_size"] == 128
        # TEI answers POST / as /rerank for a reranker
        assert "query is required" in tei_error(
            app.post("/", json={"inputs": "a"}), 422, "Validation"
        )
        ranks = app.post("/", json={"query": QUERY, "texts": TEXTS})
        assert ranks.status_code == 200, ranks.text
        scores = app.post("/rerank", json={"query": QUERY, "passages": TEXTS, "normalize": True})
        want = np.full(len(TEXTS), np.nan)
        for result in scores.json()["results"]:
            want[result["index"]] = result["score"]
        np.testing.assert_allclose(ranked_scores(ranks.json(), len(TEXTS)), want, atol=ATOL)


def test_a_tei_body_on_rerank_gets_teis_errors(server_http: httpx.Client) -> None:
    r = server_http.post("/rerank", json={"query": "q", "texts": ["a"], "truncation_direction": 3})
    assert "truncation_direction" in tei_error(r, 422, "Validation")
    r = server_http.post("/rerank", json={"query": "q", "texts": ["a"], "raw_scores": "maybe"})
    assert "raw_scores" in tei_error(r, 422, "Validation")
