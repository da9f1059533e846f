"""TEI's routes (Hugging Face text-embeddings-inference's API) over real HTTP, against a real
server on the tiny models: each answer's shape, and its values against the native API's
answer for the same texts (``tests/api/tei_native.py``)."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import numpy as np
import pytest

from tests.api.tei_native import (
    ATOL,
    DIM,
    MAX_TOKENS,
    QUERY,
    TEXTS,
    as_sparse,
    assert_sparse_equal,
    native_colbert,
    native_dense,
    native_scores,
    native_sparse,
    ranked_scores,
)

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

LONG = " ".join(f"w{i}" for i in range(700))  # well over the tiny models' 512 tokens


def post_ok(http: httpx.Client, path: str, body: object) -> Any:
    r = http.post(path, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


# --- /embed ---
def test_embed_is_the_native_dense_vector_normalized(server_http: httpx.Client) -> None:
    vectors = np.array(post_ok(server_http, "/embed", {"inputs": TEXTS}))
    assert vectors.shape == (len(TEXTS), DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors, native_dense(server_http, TEXTS), atol=ATOL)


def test_embed_one_text_and_normalize_false(server_http: httpx.Client) -> None:
    one = post_ok(server_http, "/embed", {"inputs": TEXTS[0]})
    assert np.array(one).shape == (1, DIM)  # a single text is still a list of one vector
    np.testing.assert_allclose(one[0], native_dense(server_http, TEXTS[:1])[0], atol=ATOL)
    raw = post_ok(server_http, "/embed", {"inputs": TEXTS, "normalize": False})
    np.testing.assert_allclose(raw, native_dense(server_http, TEXTS, normalize=False), atol=ATOL)


def test_prompt_name_and_unknown_fields(server_http: httpx.Client) -> None:
    # bge-m3 has no query prompt: a query is embedded as a document is
    for prompt in ("query", "document", "passage", None):
        body = {"inputs": TEXTS, "prompt_name": prompt, "some_future_field": {"x": 1}}
        np.testing.assert_allclose(
            post_ok(server_http, "/embed", body), native_dense(server_http, TEXTS), atol=ATOL
        )


def test_over_long_text_is_cut_from_the_side_asked(server_http: httpx.Client) -> None:
    right = np.array(post_ok(server_http, "/embed", {"inputs": LONG}))
    # the default and "Right" cut the end, as the native route does
    np.testing.assert_allclose(right, native_dense(server_http, [LONG]), atol=ATOL)
    upper = post_ok(server_http, "/embed", {"inputs": LONG, "truncation_direction": "Right"})
    np.testing.assert_allclose(upper, right, atol=ATOL)
    # "Left" (or "left") keeps the end: the same vector as the text's last 510 tokens
    tokens = post_ok(server_http, "/tokenize", {"inputs": LONG})[0]
    bare = [t for t in tokens if not t["special"]]
    tail = LONG[bare[len(bare) - (MAX_TOKENS - 2)]["start"] :]
    for direction in ("Left", "left"):
        left = post_ok(server_http, "/embed", {"inputs": LONG, "truncation_direction": direction})
        np.testing.assert_allclose(left, native_dense(server_http, [tail]), atol=ATOL)
        # the tiny random model's CLS vector moves little with its text, but it moves
        assert np.abs(np.array(left) - right).max() > 10 * ATOL


def test_truncate_false_refuses_an_over_long_text_with_teis_error(
    server_http: httpx.Client,
) -> None:
    r = server_http.post("/embed", json={"inputs": ["short", LONG], "truncate": False})
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["error_type"] == "Validation"
    assert body["error"].startswith(
        f"Input validation error: `inputs` must have less than {MAX_TOKENS} tokens. Given: "
    )
    assert "text 1 of the request" in body["error"]
    fits = post_ok(server_http, "/embed", {"inputs": "short", "truncate": False})
    np.testing.assert_allclose(fits, native_dense(server_http, ["short"]), atol=ATOL)
    cut = post_ok(server_http, "/embed", {"inputs": LONG, "truncate": True})
    np.testing.assert_allclose(cut, native_dense(server_http, [LONG]), atol=ATOL)


# --- /embed_sparse, /embed_all, /similarity ---
def test_embed_sparse_is_the_native_sparse_vector(server_http: httpx.Client) -> None:
    body = post_ok(server_http, "/embed_sparse", {"inputs": TEXTS})
    assert isinstance(body, list) and len(body) == len(TEXTS)
    for got, want in zip(body, native_sparse(server_http, TEXTS), strict=True):
        assert_sparse_equal(as_sparse(got), want)
    one = post_ok(server_http, "/embed_sparse", {"inputs": TEXTS[2]})
    assert_sparse_equal(as_sparse(one[0]), native_sparse(server_http, TEXTS[2:3])[0])


def test_embed_all_is_the_native_colbert_vectors(server_http: httpx.Client) -> None:
    body = post_ok(server_http, "/embed_all", {"inputs": TEXTS})
    assert isinstance(body, list) and len(body) == len(TEXTS)
    for got, want in zip(body, native_colbert(server_http, TEXTS), strict=True):
        rows = np.array(got)
        assert rows.shape == want.shape and rows.shape[0] >= 1
        np.testing.assert_allclose(rows, want, atol=ATOL)


def test_similarity_is_the_cosine_of_the_native_vectors(server_http: httpx.Client) -> None:
    body = {"inputs": {"source_sentence": QUERY, "sentences": TEXTS}}
    got = post_ok(server_http, "/similarity", body)
    dense = native_dense(server_http, [QUERY, *TEXTS])
    assert isinstance(got, list) and len(got) == len(TEXTS)
    np.testing.assert_allclose(got, dense[1:] @ dense[0], atol=ATOL)
    with_parameters = {**body, "parameters": {"truncate": True, "prompt_name": None}}
    np.testing.assert_allclose(post_ok(server_http, "/similarity", with_parameters), got, atol=ATOL)


# --- /rerank in TEI's body, /predict ---
def test_tei_rerank_scores_are_the_native_scores(server_http: httpx.Client) -> None:
    ranks = post_ok(server_http, "/rerank", {"query": QUERY, "texts": TEXTS})
    assert isinstance(ranks, list) and all(set(r) == {"index", "score"} for r in ranks)
    want = native_scores(server_http, QUERY, TEXTS, normalize=True)  # TEI's default: sigmoid
    np.testing.assert_allclose(ranked_scores(ranks, len(TEXTS)), want, atol=ATOL)
    raw = post_ok(server_http, "/rerank", {"query": QUERY, "texts": TEXTS, "raw_scores": True})
    want_raw = native_scores(server_http, QUERY, TEXTS, normalize=False)
    np.testing.assert_allclose(ranked_scores(raw, len(TEXTS)), want_raw, atol=ATOL)


def test_tei_rerank_cuts_an_over_long_text_from_the_side_asked(server_http: httpx.Client) -> None:
    query = "w5 w6"
    right = post_ok(server_http, "/rerank", {"query": query, "texts": [LONG], "raw_scores": True})
    want = native_scores(server_http, query, [LONG], normalize=False)
    assert right[0]["score"] == pytest.approx(want[0], abs=ATOL)
    # "Left" keeps the text's end: the pair <s> query </s></s> text </s> keeps 512 tokens
    tokens = post_ok(server_http, "/tokenize", {"inputs": LONG, "add_special_tokens": False})
    query_tokens = post_ok(server_http, "/tokenize", {"inputs": query, "add_special_tokens": False})
    kept = MAX_TOKENS - 4 - len(query_tokens[0])
    tail = LONG[tokens[0][len(tokens[0]) - kept]["start"] :]
    body = {"query": query, "texts": [LONG], "raw_scores": True, "truncation_direction": "Left"}
    left = post_ok(server_http, "/rerank", body)
    want_left = native_scores(server_http, query, [tail], normalize=False)
    assert left[0]["score"] == pytest.approx(want_left[0], abs=ATOL)
    refused = server_http.post("/rerank", json={**body, "truncate": False})
    assert refused.status_code == 413 and refused.json()["error_type"] == "Validation"
    assert "must have less than 512 tokens" in refused.json()["error"]


def test_tei_rerank_return_text(server_http: httpx.Client) -> None:
    ranks = post_ok(server_http, "/rerank", {"query": QUERY, "texts": TEXTS, "return_text": True})
    assert isinstance(ranks, list)
    for rank in ranks:
        assert list(rank) == ["index", "text", "score"]
        assert rank["text"] == TEXTS[rank["index"]]


def test_the_original_rerank_body_keeps_its_answer(server_http: httpx.Client) -> None:
    # A body with passages is the original's, whatever else it carries.
    body = {"query": QUERY, "passages": TEXTS, "texts": ["ignored"], "return_text": True}
    answer = post_ok(server_http, "/rerank", body)
    assert isinstance(answer, dict)
    assert set(answer) == {"results", "model_name", "processing_time_ms", "warnings"}
    assert sorted(r["index"] for r in answer["results"]) == list(range(len(TEXTS)))
    missing = server_http.post("/rerank", json={"query": QUERY})
    assert missing.status_code == 400
    assert missing.json()["detail"] == "invalid request body: passages is required"


def test_predict_scores_pairs_as_the_native_rerank_does(server_http: httpx.Client) -> None:
    other = "interest rates"
    pairs = [[QUERY, TEXTS[0]], [other, TEXTS[1]], [QUERY, TEXTS[2]], [other, TEXTS[3]]]
    batch = post_ok(server_http, "/predict", {"inputs": pairs})
    assert isinstance(batch, list) and len(batch) == len(pairs)
    assert all(len(p) == 1 and set(p[0]) == {"score", "label"} for p in batch)
    assert {p[0]["label"] for p in batch} == {"LABEL_0"}
    by_query = {
        q: native_scores(server_http, q, [t for qq, t in pairs if qq == q], normalize=True)
        for q in (QUERY, other)
    }
    want = [by_query[QUERY][0], by_query[other][0], by_query[QUERY][1], by_query[other][1]]
    np.testing.assert_allclose([p[0]["score"] for p in batch], want, atol=ATOL)
    single = post_ok(server_http, "/predict", {"inputs": pairs[0], "raw_scores": True})
    raw = native_scores(server_http, QUERY, [TEXTS[0]], normalize=False)
    assert isinstance(single, list) and len(single) == 1  # one pair: a flat list of predictions
    assert single[0]["score"] == pytest.approx(raw[0], abs=ATOL)


# --- /tokenize, /decode, /info ---
def test_tokenize_and_decode_round_trip(server_http: httpx.Client) -> None:
    text = "Cats eat meat."
    tokens = post_ok(server_http, "/tokenize", {"inputs": [text]})[0]
    assert tokens[0]["special"] and tokens[-1]["special"]
    assert tokens[0]["start"] is None and tokens[0]["stop"] is None
    inner = tokens[1:-1]
    assert all(not t["special"] and t["text"] == text[t["start"] : t["stop"]] for t in inner)
    bare = post_ok(server_http, "/tokenize", {"inputs": text, "add_special_tokens": False})
    assert [t["id"] for t in bare[0]] == [t["id"] for t in inner]
    ids = [t["id"] for t in tokens]
    assert post_ok(server_http, "/decode", {"ids": ids}) == [text]
    with_specials = post_ok(server_http, "/decode", {"ids": [ids], "skip_special_tokens": False})
    assert with_specials[0].startswith(tokens[0]["text"])
    assert post_ok(server_http, "/decode", {"ids": [ids, ids[1:2]]}) == [text, inner[0]["text"]]


def test_info_describes_the_served_model(server_http: httpx.Client) -> None:
    info = server_http.get("/info").json()
    health = server_http.get("/health").json()
    assert info["model_id"] == health["dense_embedding_model"]
    assert info["model_type"] == {"embedding": {"pooling": "cls"}}
    assert info["max_input_length"] == MAX_TOKENS
    assert info["max_batch_tokens"] == health["batch"]["max_batch_tokens"]
    assert info["max_client_batch_size"] == 128
    assert info["auto_truncate"] is True
    assert info["tokenization_workers"] >= 1
    assert info["version"] == health["version"]
    assert info["model_dtype"] == "float32"
    assert info["reranker_id"] == health["reranker_model"]


# --- POST / and /invocations ---
@pytest.mark.parametrize("path", ["/", "/invocations"])
def test_root_answers_as_embed_and_as_rerank(server_http: httpx.Client, path: str) -> None:
    embedded = post_ok(server_http, path, {"inputs": TEXTS, "normalize": False})
    np.testing.assert_allclose(
        embedded, native_dense(server_http, TEXTS, normalize=False), atol=ATOL
    )
    ranks = post_ok(server_http, path, {"query": QUERY, "texts": TEXTS})
    want = native_scores(server_http, QUERY, TEXTS, normalize=True)
    np.testing.assert_allclose(ranked_scores(ranks, len(TEXTS)), want, atol=ATOL)


# --- MessagePack, as on every route ---
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/embed", {"inputs": TEXTS}),
        ("/embed_sparse", {"inputs": TEXTS}),
        ("/embed_all", {"inputs": TEXTS[:2]}),
        ("/rerank", {"query": QUERY, "texts": TEXTS, "return_text": True}),
        ("/predict", {"inputs": [[QUERY, TEXTS[0]]]}),
        ("/tokenize", {"inputs": TEXTS[0]}),
    ],
)
def test_msgpack_body_equals_json_body(server_http: httpx.Client, path: str, body: object) -> None:
    as_json = server_http.post(path, json=body)
    as_msgpack = server_http.post(path, json=body, headers={"Accept": "application/msgpack"})
    assert as_json.status_code == as_msgpack.status_code == 200, as_json.text
    assert as_msgpack.headers["content-type"] == "application/msgpack"
    np.testing.assert_equal(msgspec.msgpack.decode(as_msgpack.content), as_json.json())
