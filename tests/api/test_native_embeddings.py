"""POST /embeddings/ — the original service's contract (SPEC §1.1), over the real app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient
from transformers import AutoTokenizer

RESPONSE_KEYS = {
    "data",
    "model_name",
    "dense_model_name",
    "sparse_model_name",
    "colbert_model_name",
    "processing_time_ms",
    "warnings",
}


@pytest.fixture(scope="module")
def xlmr(tiny_models: dict[str, Path]):  # type: ignore[no-untyped-def]
    return AutoTokenizer.from_pretrained(tiny_models["bge-m3"])


def token_count(tokenizer, text: str) -> int:  # type: ignore[no-untyped-def]
    return len(tokenizer(text)["input_ids"])


def test_default_response_shape_and_names(client: TestClient, tiny_models: dict) -> None:  # type: ignore[type-arg]
    r = client.post("/embeddings/", json={"sentences": ["first text", "second one"]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == RESPONSE_KEYS
    name = str(tiny_models["bge-m3"])
    assert body["model_name"] == body["dense_model_name"] == name
    assert body["sparse_model_name"] == body["colbert_model_name"] == name
    assert body["warnings"] == []
    assert isinstance(body["processing_time_ms"], float)
    assert [(d["id"], d["text"]) for d in body["data"]] == [(0, "first text"), (1, "second one")]
    for item in body["data"]:
        assert set(item) == {"id", "text", "embeddings"}
        emb = item["embeddings"]
        assert set(emb) == {"dense", "sparse", "colbert"}
        assert len(emb["dense"]) == 32
        assert all(isinstance(k, str) and k.isdigit() for k in emb["sparse"])
        assert all(w > 0 for w in emb["sparse"].values())


def test_path_without_trailing_slash(client: TestClient) -> None:  # type: ignore[type-arg]
    a = client.post("/embeddings", json={"sentences": ["same"], "return_sparse": False}).json()
    b = client.post("/embeddings/", json={"sentences": ["same"], "return_sparse": False}).json()
    assert a["data"] == b["data"]


def test_only_requested_fields_are_present(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.post(
        "/embeddings/",
        json={"sentences": ["x y"], "return_dense": False, "return_colbert": False},
    ).json()
    assert set(body["data"][0]["embeddings"]) == {"sparse"}


def test_sparse_as_indices_matches_the_dict_form(client: TestClient) -> None:  # type: ignore[type-arg]
    text = {
        "sentences": ["sparse vectors for hybrid search search"],
        "return_dense": False,
        "return_colbert": False,
    }
    as_dict = client.post("/embeddings/", json=text).json()["data"][0]["embeddings"]["sparse"]
    as_indices = client.post("/embeddings/", json={**text, "sparse_as_indices": True}).json()
    qdrant = as_indices["data"][0]["embeddings"]["sparse"]
    assert set(qdrant) == {"indices", "values"}
    assert qdrant["indices"] == sorted(qdrant["indices"])
    assert dict(zip(map(str, qdrant["indices"]), qdrant["values"], strict=True)) == as_dict
    assert len(as_dict) > 0


def test_sparse_drops_special_tokens_and_keeps_max_of_repeats(
    client: TestClient,
    xlmr,  # type: ignore[type-arg, no-untyped-def]
) -> None:
    body = client.post(
        "/embeddings/",
        json={
            "sentences": ["search search search"],
            "return_dense": False,
            "return_colbert": False,
        },
    ).json()
    sparse = body["data"][0]["embeddings"]["sparse"]
    ids = xlmr("search search search")["input_ids"]
    specials = {xlmr.cls_token_id, xlmr.eos_token_id, xlmr.pad_token_id, xlmr.unk_token_id}
    assert not {str(i) for i in specials} & set(sparse)
    assert set(sparse) <= {str(i) for i in ids}
    assert len(sparse) <= len(set(ids) - specials)


def test_colbert_has_one_unit_vector_per_token_after_cls(
    client: TestClient,
    xlmr,  # type: ignore[type-arg, no-untyped-def]
) -> None:
    texts = ["a", "a somewhat longer sentence with more tokens in it"]
    body = client.post(
        "/embeddings/", json={"sentences": texts, "return_dense": False, "return_sparse": False}
    ).json()
    for text, item in zip(texts, body["data"], strict=True):
        colbert = np.array(item["embeddings"]["colbert"])
        assert colbert.shape == (token_count(xlmr, text) - 1, 32)
        np.testing.assert_allclose(np.linalg.norm(colbert, axis=1), 1.0, atol=1e-5)


def test_normalize_dense(client: TestClient) -> None:  # type: ignore[type-arg]
    req = {"sentences": ["norm me"], "return_sparse": False, "return_colbert": False}
    raw = np.array(client.post("/embeddings/", json=req).json()["data"][0]["embeddings"]["dense"])
    unit = client.post("/embeddings/", json={**req, "normalize_dense": True}).json()
    unit_vec = np.array(unit["data"][0]["embeddings"]["dense"])
    assert abs(np.linalg.norm(raw) - 1.0) > 0.1  # the raw CLS vector is not unit-norm
    assert np.linalg.norm(unit_vec) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(unit_vec, raw / np.linalg.norm(raw), atol=1e-6)


def test_same_text_same_vectors_whatever_the_batch(client: TestClient) -> None:  # type: ignore[type-arg]
    alone = client.post("/embeddings/", json={"sentences": ["stable"]}).json()["data"][0]
    mixed = client.post(
        "/embeddings/", json={"sentences": ["a much longer text " * 20, "stable"]}
    ).json()["data"][1]
    np.testing.assert_allclose(
        alone["embeddings"]["dense"], mixed["embeddings"]["dense"], atol=1e-5
    )
    assert alone["embeddings"]["sparse"].keys() == mixed["embeddings"]["sparse"].keys()


def test_truncation_warning_counts_tokens_exactly(
    client: TestClient,
    xlmr,
    tiny_models: dict,  # type: ignore[type-arg, no-untyped-def]
) -> None:
    long_text = "hybrid search " * 400
    original = token_count(xlmr, long_text)
    assert original > 512
    body = client.post(
        "/embeddings/", json={"sentences": ["short", long_text], "return_sparse": False}
    ).json()
    assert len(body["warnings"]) == 1
    warning = body["warnings"][0]
    assert warning == {
        "code": "input_truncated",
        "severity": "warning",
        "message": warning["message"],
        "target": {"field": "sentences", "index": 1, "pointer": "/sentences/1"},
        "details": {
            "model": str(tiny_models["bge-m3"]),
            "max_tokens": 512,
            "original_tokens": original,
            "truncated_tokens": original - 512,
            "truncation_side": "right",
        },
    }
    assert "sentences[1]" in warning["message"]
    assert len(body["data"][1]["embeddings"]["colbert"]) == 511


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"sentences": []}, 400, "sentences must contain at least one text"),
        ({"sentences": ["ok", ""]}, 400, "sentences[1] is empty"),
        ({"sentences": ["ok", "   "]}, 400, "sentences[1] is empty"),
        (
            {"sentences": ["x"] * 129},
            422,
            "sentences has 129 items; at most 128 are allowed (MAX_SENTENCES_PER_REQUEST)",
        ),
        (
            {"sentences": ["ok", "y" * 20001]},
            422,
            "sentences[1] exceeds 20000 characters (MAX_SENTENCE_CHARS)",
        ),
        (
            {"sentences": ["z" * 20000] * 13},
            422,
            "sentences has 260000 characters in all; at most 250000 are allowed "
            "(MAX_TOTAL_CHARS_PER_REQUEST)",
        ),
        ({"sentences": ["ok", 3]}, 400, "sentences[1]"),
        ({"sentences": "not a list"}, 400, "sentences"),
        ({"sentences": None}, 400, "sentences"),
        ({}, 400, "sentences"),
        ({"sentences": ["ok"], "return_dense": "yes"}, 400, "return_dense"),
        ({"sentences": ["ok"], "input_type": "passage"}, 400, "input_type"),
        (
            {
                "sentences": ["ok"],
                "return_dense": False,
                "return_sparse": False,
                "return_colbert": False,
            },
            400,
            "nothing to compute",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient,
    payload: dict,
    status: int,
    message: str,  # type: ignore[type-arg]
) -> None:
    r = client.post("/embeddings/", json=payload)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status_code"] == status
    assert message in body["detail"]
    assert body["error"]["message"] == body["detail"]


def test_malformed_json_and_lone_surrogate(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post(
        "/embeddings/", content=b'{"sentences": ["a"', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "invalid request body" in r.json()["detail"]
    r = client.post(
        "/embeddings/",
        content=b'{"sentences": ["ok", "bad \\ud800 text"]}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert "sentences[1]" in r.json()["detail"] or "surrogate" in r.json()["detail"]


def test_limits_follow_settings(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client(max_sentences_per_request=2, max_sentence_chars=5) as small:
        from tests.helpers import wait_ready

        wait_ready(small)
        r = small.post("/embeddings/", json={"sentences": ["a", "b", "c"]})
        assert r.status_code == 422 and "at most 2" in r.json()["detail"]
        r = small.post("/embeddings/", json={"sentences": ["abcdef"]})
        assert r.status_code == 422 and r.json()["detail"] == (
            "sentences[0] exceeds 5 characters (MAX_SENTENCE_CHARS)"
        )
